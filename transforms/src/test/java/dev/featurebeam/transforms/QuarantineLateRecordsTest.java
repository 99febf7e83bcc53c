package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.Fixtures.counter;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On a stream, a record is late when the as-of date it first counts for has closed: the watermark
 * passed that date's instant. Late records are quarantined, counted and
 * kept out; every other record passes, however far it is out of order.
 */
@ExtendWith(TestPipelineExtension.class)
class QuarantineLateRecordsTest {
  /** How many late records the last run's assertion saw (the DirectRunner runs it in this JVM). */
  private static final java.util.concurrent.atomic.AtomicLong LATE_SEEN =
      new java.util.concurrent.atomic.AtomicLong(-1);

  static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: late",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n_7d, agg: count, window: 7d}"));
  static final AsOfRange RANGE =
      AsOfRange.of(LocalDate.parse("2025-01-05"), LocalDate.parse("2025-01-09"));

  static TimestampedValue<RawRecord> record(String name, String ts) {
    return TimestampedValue.of(
        RawRecord.of("topic/0@" + name, "{\"user_id\":\"u\",\"ts\":\"" + ts + "\"}",
            Map.of("user_id", "u", "ts", ts)),
        Instant.parse(ts));
  }

  static Instant at(String instant) {
    return Instant.parse(instant);
  }

  @Test
  void recordsOfAClosedDateAreQuarantinedOthersPassWhateverTheirOrder(TestPipeline p) {
    TestStream<RawRecord> stream = TestStream.create(RawRecord.RawRecordCoder.of())
        // r0 is from before the first date: it counts for the first date's windows, on time.
        .addElements(record("r1", "2025-01-05T10:00:00Z"), record("r2", "2025-01-07T10:00:00Z"),
            record("r0", "2025-01-01T10:00:00Z"))
        // 2025-01-05 closes at its instant, 2025-01-06T00:00Z.
        .advanceWatermarkTo(at("2025-01-06T00:00:00.001Z"))
        .addElements(record("r3", "2025-01-05T23:59:59.999Z"), record("r4", "2025-01-06T00:00:00Z"))
        // One jump over the closing of 2025-01-06 and 2025-01-07.
        .advanceWatermarkTo(at("2025-01-08T12:00:00Z"))
        .addElements(record("r5", "2025-01-06T05:00:00Z"), record("r6", "2025-01-07T23:00:00Z"),
            record("r7", "2025-01-08T01:00:00Z"), record("r8", "2025-01-04T01:00:00Z"))
        .advanceWatermarkToInfinity();
    PCollectionTuple out = p.apply(stream).apply(QuarantineLateRecords.of(SPEC, RANGE));
    // r3, r5, r6 and r8 come after the watermark passed their first date's closing. The
    // DirectRunner advances a TestStream's watermark without waiting for the timers it makes
    // due, so such a record may be processed before the timer that closes its date: then it is
    // on time here and, as the pending timer's hold keeps the date open for every later step,
    // on time there too. Either way each record comes out exactly once; every other record is on
    // time whatever the order. (Flink fires timers in stream order, before later records.)
    List<String> racing = List.of("topic/0@r3", "topic/0@r5", "topic/0@r6", "topic/0@r8");
    PCollection<String> onTime = out.get(QuarantineLateRecords.ON_TIME)
        .apply("OnTimeSources", MapElements.into(TypeDescriptors.strings())
            .via(RawRecord::source));
    PCollection<String> late = out.get(QuarantineLateRecords.LATE)
        .apply("LateSources", MapElements.into(TypeDescriptors.strings())
            .via((QuarantineRecord q) -> q.source()));
    PAssert.that(PCollectionList.of(onTime).and(late).apply(Flatten.pCollections()))
        .containsInAnyOrder("topic/0@r0", "topic/0@r1", "topic/0@r2", "topic/0@r3", "topic/0@r4",
            "topic/0@r5", "topic/0@r6", "topic/0@r7", "topic/0@r8");
    PAssert.that(late).satisfies(all -> {
      long n = 0;
      for (String source : all) {
        assertThat(source, racing.contains(source), is(true));
        n++;
      }
      LATE_SEEN.set(n);
      return null;
    });
    PAssert.that(out.get(QuarantineLateRecords.LATE)).satisfies(all -> {
      for (QuarantineRecord q : all) {
        assertThat(q.reason(), is("LATE:ts"));
        if (q.source().endsWith("@r3")) {
          assertThat(q.payload(), is("{\"user_id\":\"u\",\"ts\":\"2025-01-05T23:59:59.999Z\"}"));
          assertThat(q.detail(), is("ts: 2025-01-05T23:59:59.999Z first counts as of 2025-01-05,"
              + " which closed at 2025-01-06T00:00:00Z (its as-of instant)"));
        }
        if (q.source().endsWith("@r8")) { // before the range: it counted for its first date
          assertThat(q.detail(), is("ts: 2025-01-04T01:00:00Z first counts as of 2025-01-05,"
              + " which closed at 2025-01-06T00:00:00Z (its as-of instant)"));
        }
      }
      return null;
    });
    PipelineResult result = p.run();
    result.waitUntilFinish();
    long lateSeen = LATE_SEEN.get();
    assertThat(lateSeen >= 0, is(true));
    assertThat(counter(result, Counters.NAMESPACE, Counters.LATE), is(lateSeen));
    assertThat(counter(result, Counters.NAMESPACE, Counters.QUARANTINED), is(lateSeen));
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "LATE:ts"), is(lateSeen));
  }

  @Test
  void theFirstDateARecordCountsFor() {
    long t = at("2025-01-05T10:00:00Z").getMillis();
    long jan5 = LocalDate.parse("2025-01-05").toEpochDay();
    assertThat(QuarantineLateRecords.firstDate(AsOf.END_OF_DAY, t), is(jan5));
    assertThat(QuarantineLateRecords.firstDate(AsOf.START_OF_DAY, t), is(jan5 + 1));
    long midnight = at("2025-01-06T00:00:00Z").getMillis();
    assertThat(QuarantineLateRecords.firstDate(AsOf.END_OF_DAY, midnight), is(jan5 + 1));
    assertThat(QuarantineLateRecords.firstDate(AsOf.END_OF_DAY, midnight - 1), is(jan5));
  }

  @Test
  void aBoundedInputNeedsALastDate(TestPipeline p) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(Create.empty(RawRecord.RawRecordCoder.of()))
            .apply(QuarantineLateRecords.of(SPEC, AsOfRange.openEnded(LocalDate.parse("2025-01-05")))));
    assertThat(e.getMessage(), containsString("needs a range with a last date"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
