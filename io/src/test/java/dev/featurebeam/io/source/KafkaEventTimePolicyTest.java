package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.KafkaTimestampType;
import org.apache.beam.sdk.io.kafka.TimestampPolicy;
import org.apache.beam.sdk.io.kafka.TimestampPolicy.PartitionContext;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.kafka.common.TopicPartition;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

class KafkaEventTimePolicyTest {
  private static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: user_features",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  ts:      {type: timestamp, required: true, min: 2000-01-01, max: 2030-01-01}",
      "features:",
      "  - {name: n_7d, agg: count, window: 7d}",
      ""));
  private static final Duration BOUND = Duration.standardSeconds(5);
  private static final Duration IDLE = Duration.standardSeconds(30);
  /** The wall clock, far from the event times so that the two never mix up. */
  private static final Instant START = Instant.parse("2026-03-01T12:00:00Z");

  private final FakeClock clock = new FakeClock(START);
  private long offset;

  private static final class FakeClock implements KafkaEventTimePolicy.Clock {
    Instant now;

    FakeClock(Instant now) {
      this.now = now;
    }

    @Override
    public Instant now() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  private TimestampPolicy<Void, RawRecord> policy(FeatureSpec spec, Optional<Instant> previous) {
    return new KafkaEventTimePolicy.Factory(
            KafkaEventTimePolicy.EventTime.of(spec), BOUND, IDLE, clock)
        .createTimestampPolicy(new TopicPartition("events", 0), previous);
  }

  private TimestampPolicy<Void, RawRecord> policy() {
    return policy(SPEC, Optional.empty());
  }

  /** A context as the reader gives it: the backlog and when the end offset was fetched. */
  private static PartitionContext ctx(long backlog, Instant checkedAt) {
    return new PartitionContext() {
      @Override
      public long getMessageBacklog() {
        return backlog;
      }

      @Override
      public Instant getBacklogCheckTime() {
        return checkedAt;
      }
    };
  }

  /** Caught up, as of now. */
  private PartitionContext caughtUp() {
    return ctx(0, clock.now());
  }

  private PartitionContext behind() {
    return ctx(3, clock.now());
  }

  private KafkaRecord<Void, RawRecord> message(String value) {
    RawRecord parsed = new KafkaMessageParser()
        .parse(KafkaMessageParser.PENDING_SOURCE, value.getBytes(StandardCharsets.UTF_8));
    return new KafkaRecord<>("events", 0, offset++, 0L, KafkaTimestampType.CREATE_TIME, null,
        (Void) null, parsed);
  }

  private KafkaRecord<Void, RawRecord> event(String ts) {
    return message("{\"user_id\":\"u1\",\"ts\":\"" + ts + "\"}");
  }

  private static Instant t(String iso) {
    return Instant.parse(iso);
  }

  @Test
  void outOfOrderRecordsWithinTheBoundKeepTheWatermarkAtTheGreatestLessTheBound() {
    TimestampPolicy<Void, RawRecord> p = policy();
    String[] times = {"2025-01-05T10:00:10Z", "2025-01-05T10:00:07Z", "2025-01-05T10:00:12Z",
        "2025-01-05T10:00:08Z"};
    String[] watermarks = {"2025-01-05T10:00:05Z", "2025-01-05T10:00:05Z", "2025-01-05T10:00:07Z",
        "2025-01-05T10:00:07Z"};
    for (int i = 0; i < times.length; i++) {
      assertThat("the record's timestamp is its event time",
          p.getTimestampForRecord(behind(), event(times[i])), equalTo(t(times[i])));
      assertThat("after " + times[i], p.getWatermark(behind()), equalTo(t(watermarks[i])));
    }
  }

  /**
   * An allowed lateness holds the watermark back by that much more, on the event times, on the
   * idle mark and for records without a time; resuming from a checkpoint's (held) watermark keeps
   * it where it was.
   */
  @Test
  void anAllowedLatenessHoldsEveryWatermarkBackByThatMuchMore() {
    Duration hour = Duration.standardHours(1);
    KafkaEventTimePolicy.Factory held = new KafkaEventTimePolicy.Factory(
        KafkaEventTimePolicy.EventTime.of(SPEC), BOUND, IDLE, clock).withAllowedLateness(hour);
    TimestampPolicy<Void, RawRecord> p =
        held.createTimestampPolicy(new TopicPartition("events", 0), Optional.empty());
    assertThat(p.getTimestampForRecord(behind(), event("2025-01-05T10:00:10Z")),
        equalTo(t("2025-01-05T10:00:10Z")));
    assertThat(p.getWatermark(behind()), equalTo(t("2025-01-05T09:00:05Z")));
    assertThat("a record without a time takes the held watermark",
        p.getTimestampForRecord(behind(), message("not json")), equalTo(t("2025-01-05T09:00:05Z")));
    clock.advance(IDLE);
    Instant idleMark = clock.now().minus(IDLE);
    assertThat(p.getWatermark(caughtUp()), equalTo(idleMark.minus(hour)));
    TimestampPolicy<Void, RawRecord> resumed = held.createTimestampPolicy(
        new TopicPartition("events", 0), Optional.of(t("2025-01-05T09:00:05Z")));
    assertThat(resumed.getWatermark(behind()), equalTo(t("2025-01-05T09:00:05Z")));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> held.withAllowedLateness(hour.negated()));
  }

  @Test
  void aRecordWithAnOlderEventTimeNeverMovesTheWatermarkBack() {
    TimestampPolicy<Void, RawRecord> p = policy();
    p.getTimestampForRecord(behind(), event("2025-01-05T10:00:12Z"));
    assertThat(p.getWatermark(behind()), equalTo(t("2025-01-05T10:00:07Z")));
    assertThat("late, and still its own event time",
        p.getTimestampForRecord(behind(), event("2025-01-05T09:00:00Z")),
        equalTo(t("2025-01-05T09:00:00Z")));
    assertThat(p.getWatermark(behind()), equalTo(t("2025-01-05T10:00:07Z")));
  }

  @Test
  void aPolicyResumingFromACheckpointNeverGoesBehindItsWatermark() {
    TimestampPolicy<Void, RawRecord> p =
        policy(SPEC, Optional.of(t("2025-01-05T11:00:00Z")));
    assertThat(p.getWatermark(behind()), equalTo(t("2025-01-05T11:00:00Z")));
    p.getTimestampForRecord(behind(), event("2025-01-05T10:00:00Z"));
    assertThat(p.getWatermark(behind()), equalTo(t("2025-01-05T11:00:00Z")));
    p.getTimestampForRecord(behind(), event("2025-01-05T12:00:00Z"));
    assertThat(p.getWatermark(behind()), equalTo(t("2025-01-05T11:59:55Z")));
  }

  @Test
  void anIdlePartitionWithoutBacklogFollowsTheClockOnceTheIdleTimeoutHasPassed() {
    TimestampPolicy<Void, RawRecord> p = policy();
    p.getTimestampForRecord(behind(), event("2025-01-05T10:00:10Z"));
    Instant delivered = clock.now();
    clock.advance(IDLE.minus(Duration.millis(1)));
    assertThat("not idle long enough", p.getWatermark(caughtUp()),
        equalTo(t("2025-01-05T10:00:05Z")));
    clock.advance(Duration.millis(1));
    assertThat("now - idleTimeout", p.getWatermark(caughtUp()), equalTo(delivered));
    clock.advance(Duration.standardSeconds(10));
    assertThat(p.getWatermark(caughtUp()), equalTo(clock.now().minus(IDLE)));

    // A delivery ends the idleness: the watermark holds (never back) until the next idle spell.
    Instant held = p.getWatermark(caughtUp());
    assertThat(p.getTimestampForRecord(behind(), event("2025-01-05T10:00:20Z")),
        equalTo(t("2025-01-05T10:00:20Z")));
    clock.advance(IDLE.minus(Duration.millis(1)));
    assertThat(p.getWatermark(caughtUp()), equalTo(held));
    clock.advance(Duration.millis(1));
    assertThat(p.getWatermark(caughtUp()), equalTo(clock.now().minus(IDLE)));
  }

  @Test
  void aPartitionWithBacklogOrAnUnknownOrStaleOneIsNotIdle() {
    TimestampPolicy<Void, RawRecord> p = policy();
    p.getTimestampForRecord(behind(), event("2025-01-05T10:00:10Z"));
    clock.advance(Duration.standardMinutes(5));
    Instant trailing = t("2025-01-05T10:00:05Z");
    assertThat("records wait", p.getWatermark(ctx(3, clock.now())), equalTo(trailing));
    assertThat("no end offset fetched yet", p.getWatermark(ctx(-1, clock.now())),
        equalTo(trailing));
    assertThat("the last fetch is older than the idle time",
        p.getWatermark(ctx(0, clock.now().minus(IDLE).minus(Duration.millis(1)))),
        equalTo(trailing));
    assertThat("a fresh fetch", p.getWatermark(ctx(0, clock.now().minus(IDLE))),
        equalTo(clock.now().minus(IDLE)));
  }

  @Test
  void aPartitionThatNeverDeliversCountsAsIdleFromTheReadersStart() {
    TimestampPolicy<Void, RawRecord> p = policy();
    clock.advance(IDLE.minus(Duration.millis(1)));
    assertThat(p.getWatermark(caughtUp()), equalTo(BoundedWindow.TIMESTAMP_MIN_VALUE));
    clock.advance(Duration.millis(1));
    assertThat(p.getWatermark(caughtUp()), equalTo(START));
    clock.advance(Duration.standardMinutes(1));
    assertThat(p.getWatermark(caughtUp()), equalTo(START.plus(Duration.standardMinutes(1))));
  }

  @Test
  void theIdleMarkNeverTakesAWatermarkBack() {
    // Event times ahead of the clock: now - idleTimeout would be behind the watermark.
    TimestampPolicy<Void, RawRecord> p = policy();
    p.getTimestampForRecord(behind(), event("2027-01-01T00:00:00Z"));
    clock.advance(Duration.standardHours(1));
    assertThat(p.getWatermark(caughtUp()), equalTo(t("2026-12-31T23:59:55Z")));

    TimestampPolicy<Void, RawRecord> resumed =
        policy(SPEC, Optional.of(t("2027-01-01T00:00:00Z")));
    clock.advance(Duration.standardHours(1));
    assertThat(resumed.getWatermark(caughtUp()), equalTo(t("2027-01-01T00:00:00Z")));
  }

  @Test
  void recordsWithoutAReadableEventTimeTakeThePartitionsWatermarkAndLeaveIt() {
    TimestampPolicy<Void, RawRecord> p = policy();
    assertThat("before any event time", p.getTimestampForRecord(behind(), message("not json")),
        equalTo(BoundedWindow.TIMESTAMP_MIN_VALUE));
    p.getTimestampForRecord(behind(), event("2025-01-05T10:00:10Z"));
    Instant watermark = t("2025-01-05T10:00:05Z");
    String[] unreadable = {
        "not json",
        "[1,2]",
        "{\"user_id\":\"u1\"}",
        "{\"user_id\":\"u1\",\"ts\":null}",
        "{\"user_id\":\"u1\",\"ts\":\"   \"}",
        "{\"user_id\":\"u1\",\"ts\":\"yesterday\"}",
        "{\"user_id\":\"u1\",\"ts\":{\"at\":\"2025-01-05T11:00:00Z\"}}",
        "{\"user_id\":\"u1\",\"ts\":\"0000-01-01T00:00:00Z\"}",
        "{\"user_id\":\"u1\",\"ts\":\"1999-12-31T23:59:59Z\"}", // before the field's min
        "{\"user_id\":\"u1\",\"ts\":\"2030-01-01T00:00:01Z\"}", // after its max
    };
    for (String value : unreadable) {
      assertThat(value, p.getTimestampForRecord(behind(), message(value)), equalTo(watermark));
      assertThat(value, p.getWatermark(behind()), equalTo(watermark));
    }
    // The record's own event time, from the first delivery without any watermark call between.
    p.getTimestampForRecord(behind(), event("2025-01-05T10:00:30Z"));
    assertThat(p.getTimestampForRecord(behind(), message("{}")),
        equalTo(t("2025-01-05T10:00:25Z")));
  }

  @Test
  void anUnreadableRecordIsADeliveryToo() {
    TimestampPolicy<Void, RawRecord> p = policy();
    clock.advance(IDLE.minus(Duration.millis(1)));
    p.getTimestampForRecord(behind(), message("not json"));
    clock.advance(Duration.millis(1));
    assertThat(p.getWatermark(caughtUp()), equalTo(BoundedWindow.TIMESTAMP_MIN_VALUE));
  }

  @Test
  void theEventTimeIsReadInTheFieldsFormatAndTheSourceTimeZone() {
    FeatureSpec seconds = SpecParser.parse(String.join("\n",
        "feature_set: user_features",
        "version: 1",
        "entity: user_id",
        "timestamp: ts",
        "source_timezone: Europe/Paris",
        "source_schema:",
        "  user_id: {type: string, required: true}",
        "  ts:      {type: timestamp, format: epoch_seconds}",
        "features:",
        "  - {name: n_7d, agg: count, window: 7d}",
        ""));
    TimestampPolicy<Void, RawRecord> p = policy(seconds, Optional.empty());
    assertThat(p.getTimestampForRecord(behind(), message("{\"ts\":1736071200.5009}")),
        equalTo(t("2025-01-05T10:00:00.500Z")));
    assertThat(p.getTimestampForRecord(behind(), message("{\"ts\":\"1736071200\"}")),
        equalTo(t("2025-01-05T10:00:00Z")));
    assertThat("local time in the source time zone",
        p.getTimestampForRecord(behind(), message("{\"ts\":\" 2025-01-05 11:00:00 \"}")),
        equalTo(t("2025-01-05T10:00:00Z")));
    assertThat(p.getTimestampForRecord(behind(), message("{\"ts\":\"2025-01-05T10:00:01Z\"}")),
        equalTo(t("2025-01-05T10:00:01Z")));
  }

  @Test
  void theFactoryRefusesANegativeBoundAndANonPositiveIdleTimeout() {
    KafkaEventTimePolicy.EventTime eventTime = KafkaEventTimePolicy.EventTime.of(SPEC);
    assertThat(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> new KafkaEventTimePolicy.Factory(eventTime, Duration.millis(-1), IDLE, clock))
        .getMessage(), is("maxOutOfOrderness must not be negative, got PT-0.001S"));
    assertThat(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> new KafkaEventTimePolicy.Factory(eventTime, BOUND, Duration.ZERO, clock))
        .getMessage(), is("idleTimeout must be positive, got PT0S"));
  }
}
