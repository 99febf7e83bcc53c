package dev.featurebeam.io.source;

import static com.google.common.base.Preconditions.checkArgument;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.ValueParser;
import java.io.Serializable;
import java.time.ZoneId;
import java.util.Optional;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.TimestampPolicy;
import org.apache.beam.sdk.io.kafka.TimestampPolicyFactory;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.kafka.common.TopicPartition;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The event time and watermark of one Kafka partition for {@link KafkaSource}. A record's
 * timestamp is its event time, read from the payload's timestamp field as validation reads it
 * ({@link EventTime}); a record whose event time cannot be read takes the partition's current
 * watermark, so that it flows on to the quarantine without moving the watermark. The watermark
 * trails the greatest event time delivered by {@code maxOutOfOrderness} and never goes back. Once
 * a partition has delivered nothing for {@code idleTimeout} of wall-clock time and has no backlog,
 * as fetched within that time, its watermark moves on to {@code now - idleTimeout} (never back); a
 * partition that has delivered nothing counts from the policy's creation, the reader's start.
 * The watermark given out is that one less the allowed lateness.
 *
 * <p>Not KafkaIO's {@code CustomTimestampPolicyWithLimitedDelay} (Beam 2.62): its watermark
 * moves over an idle partition only once that partition has delivered a record with a positive
 * timestamp, so a partition that never delivers holds the reader's watermark at its minimum
 * forever (apache/beam#20908, open); and it jumps to the backlog check time minus the delay as
 * soon as a partition has no backlog, with no idle duration, which makes a replay of older data
 * late at its first pause. Its {@code withTimestampFn} policy returns the last record's time as
 * the watermark, which goes back on out-of-order data, and {@code LogAppendTimePolicy} reads the
 * broker's time, not the payload's.
 *
 * <p>How KafkaIO's reader ({@code KafkaUnboundedReader}, 2.62) calls a policy; KafkaIO reads
 * through it on the Direct and Flink runners, and {@link KafkaSource} refuses the options that
 * would not. One policy per partition, made when the reader is made, with the watermark of the
 * checkpoint it resumes from; {@link #getTimestampForRecord} for each record as the reader
 * delivers it; {@link #getWatermark} for every partition each time the runner asks the reader for
 * its watermark, the reader's being the least of them. The context's backlog is the partition's
 * end offset (fetched every second by a second consumer) minus the next offset to deliver, or -1
 * before the first fetch; its check time is when that end offset was fetched, and stays old while
 * fetches fail. The calls never overlap (the Direct runner hands the reader from thread to thread
 * between bundles, Flink makes them under its checkpoint lock), so the state needs no lock of its
 * own. KafkaIO's splittable-DoFn read (under {@code use_sdf_read}, on portable runners and on
 * Dataflow) makes a new policy each time it resumes a partition instead, which is after every
 * empty poll, so the idle clock would never run out there.
 */
final class KafkaEventTimePolicy extends TimestampPolicy<Void, RawRecord> {
  private final EventTime eventTime;
  private final Duration maxOutOfOrderness;
  private final Duration idleTimeout;
  private final Duration lateness;
  private final Clock clock;

  /** The partition's watermark for the progress line and the runner's UI, set per record. */
  private final Gauge watermarkGauge;

  /** The events' watermark, before the lateness, or the checkpoint's: it never goes back. */
  private Instant watermark;

  /** The greatest event time delivered, or null before one. */
  private @Nullable Instant maxEventTime;

  /** The wall-clock time of the last delivered record, or of the policy's creation. */
  private Instant lastDelivery;

  KafkaEventTimePolicy(
      EventTime eventTime,
      Duration maxOutOfOrderness,
      Duration idleTimeout,
      Duration lateness,
      Clock clock,
      int partition,
      Optional<Instant> previousWatermark) {
    this.watermarkGauge = Metrics.gauge(
        KafkaSource.METRICS_NAMESPACE, KafkaSource.WATERMARK_GAUGE_PREFIX + partition);
    this.eventTime = eventTime;
    this.maxOutOfOrderness = maxOutOfOrderness;
    this.idleTimeout = idleTimeout;
    this.lateness = lateness;
    this.clock = clock;
    this.watermark = previousWatermark.map(w -> w.plus(lateness))
        .orElse(BoundedWindow.TIMESTAMP_MIN_VALUE);
    this.lastDelivery = clock.now();
  }

  @Override
  public Instant getTimestampForRecord(PartitionContext ctx, KafkaRecord<Void, RawRecord> record) {
    lastDelivery = clock.now();
    Instant t = eventTime.read(record.getKV().getValue());
    if (t == null) {
      return held(followEventTimes());
    }
    if (maxEventTime == null || t.isAfter(maxEventTime)) {
      maxEventTime = t;
    }
    // Set here, inside the reader's advance, where runners scope a step's metrics; the idle
    // mark (moved in getWatermark, outside that scope) is not shown.
    watermarkGauge.set(held(followEventTimes()).getMillis());
    return t;
  }

  @Override
  public Instant getWatermark(PartitionContext ctx) {
    followEventTimes();
    Instant now = clock.now();
    Instant idleMark = now.minus(idleTimeout);
    boolean idle = !lastDelivery.isAfter(idleMark)
        && ctx.getMessageBacklog() == 0
        // A backlog of 0 counts only as fresh as the idle time: one fetched before a broker went
        // away, or before the last delivery, says nothing about now.
        && !ctx.getBacklogCheckTime().isBefore(idleMark);
    if (idle && idleMark.isAfter(watermark)) {
      watermark = idleMark;
    }
    return held(watermark);
  }

  /** The watermark less the lateness; the minimum stays the minimum. */
  private Instant held(Instant w) {
    Instant min = BoundedWindow.TIMESTAMP_MIN_VALUE;
    return w.minus(lateness).isBefore(min) ? min : w.minus(lateness);
  }

  /** Raises the watermark to the greatest event time less the bound; returns it. */
  private Instant followEventTimes() {
    if (maxEventTime != null) {
      Instant trailing = maxEventTime.minus(maxOutOfOrderness);
      if (trailing.isAfter(watermark)) {
        watermark = trailing;
      }
    }
    return watermark;
  }

  /** Wall-clock time; tests give their own. */
  interface Clock extends Serializable {
    Instant now();

    Clock SYSTEM = Instant::now;
  }

  /** Makes one policy per partition, as KafkaIO's reader asks. */
  static final class Factory implements TimestampPolicyFactory<Void, RawRecord> {
    private final EventTime eventTime;
    private final Duration maxOutOfOrderness;
    private final Duration idleTimeout;
    private final Duration lateness;
    private final Clock clock;

    Factory(EventTime eventTime, Duration maxOutOfOrderness, Duration idleTimeout, Clock clock) {
      this(eventTime, maxOutOfOrderness, idleTimeout, Duration.ZERO, clock);
    }

    private Factory(EventTime eventTime, Duration maxOutOfOrderness, Duration idleTimeout,
        Duration lateness, Clock clock) {
      checkArgument(!maxOutOfOrderness.isShorterThan(Duration.ZERO),
          "maxOutOfOrderness must not be negative, got %s", maxOutOfOrderness);
      checkArgument(idleTimeout.isLongerThan(Duration.ZERO),
          "idleTimeout must be positive, got %s", idleTimeout);
      this.eventTime = eventTime;
      this.maxOutOfOrderness = maxOutOfOrderness;
      this.idleTimeout = idleTimeout;
      this.lateness = lateness;
      this.clock = clock;
    }

    /** The same policy, its watermark held back by {@code lateness} more. */
    Factory withAllowedLateness(Duration lateness) {
      checkArgument(!lateness.isShorterThan(Duration.ZERO),
          "allowedLateness must not be negative, got %s", lateness);
      return new Factory(eventTime, maxOutOfOrderness, idleTimeout, lateness, clock);
    }

    @Override
    public TimestampPolicy<Void, RawRecord> createTimestampPolicy(
        TopicPartition partition, Optional<Instant> previousWatermark) {
      return new KafkaEventTimePolicy(
          eventTime, maxOutOfOrderness, idleTimeout, lateness, clock, partition.partition(),
          previousWatermark);
    }
  }

  /**
   * Reads a record's event time from the spec's timestamp field by the rules validation applies to
   * it (a scalar, stripped, not empty, parsed in the field's format and the source time zone,
   * within the field's min and max), so that no record validation quarantines for its timestamp
   * moves the watermark.
   */
  static final class EventTime implements Serializable {
    private final FieldSpec field;
    private final String zoneId;
    private transient @Nullable ZoneId zone;

    private EventTime(FieldSpec field, String zoneId) {
      this.field = field;
      this.zoneId = zoneId;
    }

    static EventTime of(FeatureSpec spec) {
      FieldSpec field = spec.field(spec.timestamp());
      checkArgument(field != null && field.type() == FieldType.TIMESTAMP,
          "the spec's timestamp %s is not a timestamp field of its source schema", spec.timestamp());
      ZoneId.of(spec.sourceTimezone()); // fails here rather than on the first record
      return new EventTime(field, spec.sourceTimezone());
    }

    /** The event time, or null when the record has none that validation would accept. */
    @Nullable Instant read(RawRecord record) {
      if (record.formatError() != null || record.blank() || record.nested().contains(field.name())) {
        return null;
      }
      String text = record.fields().get(field.name());
      if (text == null || (text = text.strip()).isEmpty()) {
        return null;
      }
      if (zone == null) {
        zone = ZoneId.of(zoneId);
      }
      long millis;
      try {
        millis = ValueParser.parseTimestampMillis(text, zone, field.timestampFormat());
      } catch (ValueParser.BadValueException e) {
        return null;
      }
      if ((field.min() != null && millis < field.min())
          || (field.max() != null && millis > field.max())) {
        return null;
      }
      return new Instant(millis);
    }
  }
}
