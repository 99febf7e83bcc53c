package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.Fixtures.counter;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class KeepEventsInRangeTest {
  static final String HEAD = "feature_set: r\nversion: 1\nentity: user_id\ntimestamp: ts\n";
  static final String SCHEMA =
      "source_schema:\n"
          + "  user_id: {type: string, required: true}\n"
          + "  ts:      {type: timestamp, required: true}\n";

  /** Longest window 7d: as of 2025-01-10 end_of_day the first useful instant is 2025-01-04T00:00Z. */
  static final FeatureSpec WINDOWED = SpecParser.parse(HEAD + SCHEMA
      + "features:\n"
      + "  - {name: c_7d, agg: count, window: 7d}\n"
      + "  - {name: a_24h, agg: exists, window: 24h}\n");

  static final FeatureSpec START_OF_DAY = SpecParser.parse(HEAD + "as_of: start_of_day\n" + SCHEMA
      + "features:\n"
      + "  - {name: c_7d, agg: count, window: 7d}\n");

  static final FeatureSpec UNBOUNDED = SpecParser.parse(HEAD + SCHEMA
      + "features:\n"
      + "  - {name: c_7d, agg: count, window: 7d}\n"
      + "  - {name: dsl, agg: days_since_last}\n");

  static final AsOfRange RANGE = AsOfRange.of(LocalDate.parse("2025-01-10"), LocalDate.parse("2025-01-12"));

  static final List<String> TIMES = List.of(
      "2024-01-01T00:00:00Z",
      "2025-01-02T23:59:59.999Z",
      "2025-01-03T00:00:00Z",
      "2025-01-03T23:59:59.999Z",
      "2025-01-04T00:00:00Z",
      "2025-01-10T12:00:00Z",
      "2025-01-11T23:59:59.999Z",
      "2025-01-12T00:00:00Z",
      "2025-01-12T23:59:59.999Z",
      "2025-01-13T00:00:00Z",
      "2025-02-01T00:00:00Z");

  static PCollection<String> keep(TestPipeline p, FeatureSpec spec, AsOfRange range) {
    Schema s = spec.eventSchema();
    List<Row> rows = new ArrayList<>();
    for (String t : TIMES) {
      rows.add(Row.withSchema(s).addValues("u1", Instant.parse(t)).build());
    }
    return p.apply(Create.of(rows).withRowSchema(s))
        .apply(KeepEventsInRange.of(spec, range))
        .apply(MapElements.into(TypeDescriptors.strings()).via((Row r) ->
            java.time.Instant.ofEpochMilli(r.getDateTime("ts").getMillis()).toString()));
  }

  @Test
  void theRangeBoundsFollowTheLongestWindowAndTheLastAsOfInstant() {
    assertThat(RANGE.firstUsefulMillis(WINDOWED), equalTo(java.time.Instant.parse("2025-01-04T00:00:00Z").toEpochMilli()));
    assertThat(RANGE.endMillis(WINDOWED.asOf()), equalTo(java.time.Instant.parse("2025-01-13T00:00:00Z").toEpochMilli()));
    assertThat(RANGE.firstUsefulMillis(START_OF_DAY), equalTo(java.time.Instant.parse("2025-01-03T00:00:00Z").toEpochMilli()));
    assertThat(RANGE.endMillis(START_OF_DAY.asOf()), equalTo(java.time.Instant.parse("2025-01-12T00:00:00Z").toEpochMilli()));
    assertThat(RANGE.firstUsefulMillis(UNBOUNDED), equalTo(Long.MIN_VALUE));
  }

  @Test
  void endOfDayWithASevenDayWindow(TestPipeline p) {
    PAssert.that(keep(p, WINDOWED, RANGE)).containsInAnyOrder(
        "2025-01-04T00:00:00Z",
        "2025-01-10T12:00:00Z",
        "2025-01-11T23:59:59.999Z",
        "2025-01-12T00:00:00Z",
        "2025-01-12T23:59:59.999Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.OUT_OF_RANGE), equalTo(6L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.VALID), equalTo(5L));
  }

  @Test
  void startOfDayWithASevenDayWindow(TestPipeline p) {
    // as of 2025-01-10 start_of_day T = 2025-01-10T00:00Z, so 7d reaches back to 2025-01-03T00:00Z;
    // as of 2025-01-12 T = 2025-01-12T00:00Z, and nothing at or after it is used.
    PAssert.that(keep(p, START_OF_DAY, RANGE)).containsInAnyOrder(
        "2025-01-03T00:00:00Z",
        "2025-01-03T23:59:59.999Z",
        "2025-01-04T00:00:00Z",
        "2025-01-10T12:00:00Z",
        "2025-01-11T23:59:59.999Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.OUT_OF_RANGE), equalTo(6L));
  }

  @Test
  void anUnboundedFeatureKeepsTheWholeHistory(TestPipeline p) {
    PAssert.that(keep(p, UNBOUNDED, RANGE)).containsInAnyOrder(
        "2024-01-01T00:00:00Z",
        "2025-01-02T23:59:59.999Z",
        "2025-01-03T00:00:00Z",
        "2025-01-03T23:59:59.999Z",
        "2025-01-04T00:00:00Z",
        "2025-01-10T12:00:00Z",
        "2025-01-11T23:59:59.999Z",
        "2025-01-12T00:00:00Z",
        "2025-01-12T23:59:59.999Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.OUT_OF_RANGE), equalTo(2L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.VALID), equalTo(9L));
  }

  @Test
  void anOpenEndedRangeDropsNothingLate(TestPipeline p) {
    PAssert.that(keep(p, WINDOWED, AsOfRange.openEnded(LocalDate.parse("2025-01-10")))).containsInAnyOrder(
        "2025-01-04T00:00:00Z",
        "2025-01-10T12:00:00Z",
        "2025-01-11T23:59:59.999Z",
        "2025-01-12T00:00:00Z",
        "2025-01-12T23:59:59.999Z",
        "2025-01-13T00:00:00Z",
        "2025-02-01T00:00:00Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.OUT_OF_RANGE), equalTo(4L));
  }
}
