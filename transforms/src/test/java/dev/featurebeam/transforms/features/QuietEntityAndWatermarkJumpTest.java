package dev.featurebeam.transforms.features;

import static dev.featurebeam.transforms.Fixtures.records;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.CleanEvents;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.Fixtures;
import dev.featurebeam.transforms.ValidateRecords;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The stream's feature path ({@link ComputeFeatures.Method#STATE_AND_TIMERS}) where its per-entity
 * timer is most easily wrong: the watermark passes several as-of instants in one step (the timer
 * must fire for each present date, not only the last), and an entity falls silent for longer than
 * its longest window (no rows while it is absent, its state folded) and then comes back (the timer
 * must be set again). Rows equal the grouped method's on the same events and a hand computation.
 */
@ExtendWith(TestPipelineExtension.class)
class QuietEntityAndWatermarkJumpTest {
  /** Only windowed features, so that presence is the longest window: 3 days. */
  static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: quiet",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  amount: {type: double}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n_3d, agg: count, window: 3d}",
      "  - {name: amt_sum_2d, agg: sum, field: amount, window: 2d}",
      "  - {name: amt_max_3d, agg: max, field: amount, window: 3d}",
      "  - {name: n_12h, agg: count, window: 12h}",
      ""));

  static final LocalDate FROM = LocalDate.parse("2025-01-01");
  static final LocalDate TO = LocalDate.parse("2025-01-15");

  /** The events of each step of the stream; the watermark moves after each step. */
  static final String STEP_1 = String.join("\n",
      "user_id,amount,ts",
      "u1,1.5,2025-01-01T10:00:00Z",
      "u2,10.0,2025-01-01T05:00:00Z");
  static final String STEP_2 = String.join("\n",
      "user_id,amount,ts",
      "u1,2.0,2025-01-02T08:00:00Z",
      "u1,4.0,2025-01-02T20:00:00Z",
      "u2,5.0,2025-01-05T13:00:00Z");
  // u1 is back after 7 days without an event (its 3-day windows emptied on 2025-01-05).
  static final String STEP_3 = String.join("\n",
      "user_id,amount,ts",
      "u1,3.0,2025-01-10T12:00:00Z",
      "u1,,2025-01-10T18:00:00Z",
      "u1,1.0,2025-01-11T23:00:00Z",
      "u2,7.0,2025-01-12T01:00:00Z");

  /**
   * By hand, end_of_day (T = the next midnight UTC), windows [T - L, T). user_id, as_of_date,
   * n_3d, amt_sum_2d, amt_max_3d, n_12h; an empty sum is null (empty column).
   */
  static final List<String> EXPECTED = List.of(
      "u1,2025-01-01,1,1.5,1.5,0",
      "u1,2025-01-02,3,7.5,4.0,1",    // 12h [01-02T12, 01-03): the 20:00 event only
      "u1,2025-01-03,3,6.0,4.0,0",    // 2d [01-02, 01-04): 2.0 + 4.0
      "u1,2025-01-04,2,,4.0,0",       // 2d [01-03, 01-05) is empty: null sum
      // 2025-01-05 to -09: no u1 event in [T - 3d, T), so no row.
      "u1,2025-01-10,2,3.0,3.0,2",    // 12h [01-10T12, 01-11): 12:00 is the window's first instant
      "u1,2025-01-11,3,4.0,3.0,1",
      "u1,2025-01-12,3,1.0,3.0,0",
      "u1,2025-01-13,1,,1.0,0",
      // 2025-01-14 and -15: none again.
      "u2,2025-01-01,1,10.0,10.0,0",
      "u2,2025-01-02,1,10.0,10.0,0",
      "u2,2025-01-03,1,,10.0,0",
      // 2025-01-04: [01-02, 01-05) is empty.
      "u2,2025-01-05,1,5.0,5.0,1",
      "u2,2025-01-06,1,5.0,5.0,0",
      "u2,2025-01-07,1,,5.0,0",
      // 2025-01-08 to -11: none.
      "u2,2025-01-12,1,7.0,7.0,0",
      "u2,2025-01-13,1,7.0,7.0,0",
      "u2,2025-01-14,1,,7.0,0");

  /** (entity, day) pairs with events: u1 on 01-01, -02, -10, -11; u2 on 01-01, -05, -12. */
  static final long TILES = 7;

  @Test
  void theHandComputedRowsAreTheOraclesToo() {
    List<Map<String, Object>> events = new ArrayList<>();
    for (String step : List.of(STEP_1, STEP_2, STEP_3)) {
      for (RawRecord r : records(step)) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("user_id", r.fields().get("user_id"));
        String amount = r.fields().get("amount");
        e.put("amount", amount.isEmpty() ? null : Double.valueOf(amount));
        e.put("ts", java.time.Instant.parse(r.fields().get("ts")).toEpochMilli());
        events.add(e);
      }
    }
    assertThat(NaiveFeatures.rows(SPEC, events, FROM, TO), containsInAnyOrder(EXPECTED.toArray()));
  }

  @Test
  void jumpsOverSeveralInstantsAndAQuietEntityGiveTheGroupedRows(TestPipeline p) {
    TestStream.Builder<RawRecord> b = TestStream.create(RawRecord.RawRecordCoder.of());
    b = add(b, STEP_1)
        // Closes 2025-01-01 only.
        .advanceWatermarkTo(Instant.parse("2025-01-02T00:00:00Z"));
    b = add(b, STEP_2)
        // Past the instants of 2025-01-02 to -08 in one step, with the tiles of two days pending.
        .advanceWatermarkTo(Instant.parse("2025-01-09T00:00:00Z"));
    TestStream<RawRecord> stream = add(b, STEP_3)
        // Past 2025-01-09 to -12 at once, then the rest of the range.
        .advanceWatermarkTo(Instant.parse("2025-01-13T00:00:00Z"))
        .advanceWatermarkToInfinity();
    List<RawRecord> all = new ArrayList<>();
    for (String step : List.of(STEP_1, STEP_2, STEP_3)) {
      all.addAll(records(step));
    }

    PCollection<String> streamed = features(
        p.apply("Events", stream), "Stream", ComputeFeatures.Method.STATE_AND_TIMERS);
    PCollection<String> grouped = features(
        p.apply("Bounded", Create.of(all).withCoder(RawRecord.RawRecordCoder.of())),
        "Grouped", ComputeFeatures.Method.GROUP_BY_ENTITY);
    PAssert.that("stream rows", streamed).containsInAnyOrder(EXPECTED);
    PAssert.that("grouped rows", grouped).containsInAnyOrder(EXPECTED);

    PipelineResult result = p.run();
    result.waitUntilFinish();
    for (String method : List.of("Stream", "Grouped")) {
      assertThat(method + " tiles",
          Fixtures.counterUnder(result, method, Counters.NAMESPACE, Counters.TILES),
          equalTo(TILES));
      assertThat(method + " rows",
          Fixtures.counterUnder(result, method, Counters.NAMESPACE, Counters.FEATURE_ROWS),
          equalTo((long) EXPECTED.size()));
    }
    assertThat("no tile reached the stream's roll after its date",
        Fixtures.counterUnder(result, "Stream", Counters.NAMESPACE, Counters.LATE_TILES),
        equalTo(0L));
  }

  private static PCollection<String> features(
      PCollection<RawRecord> raw, String name, ComputeFeatures.Method method) {
    return raw
        .apply(name + "Validate", ValidateRecords.of(SPEC))
        .get(ValidateRecords.VALID)
        .apply(name + "Clean", CleanEvents.of(SPEC))
        .get(CleanEvents.CLEANED)
        .apply(name, ComputeFeatures.of(SPEC, AsOfRange.of(FROM, TO)).withMethod(method))
        .get(ComputeFeatures.FEATURES)
        .apply(name + "Csv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
  }

  /** Adds the step's records, each at its event time. */
  private static TestStream.Builder<RawRecord> add(TestStream.Builder<RawRecord> b, String csv) {
    for (RawRecord r : records(csv)) {
      b = b.addElements(TimestampedValue.of(r, Instant.parse(r.fields().get("ts"))));
    }
    return b;
  }
}
