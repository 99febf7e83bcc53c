package dev.featurebeam.transforms.features;

import static dev.featurebeam.transforms.Fixtures.counter;
import static dev.featurebeam.transforms.Fixtures.records;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.BuildFeatures;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.Fixtures;
import java.time.LocalDate;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Hand-computed edges of the as-of rule: [T - L, T), offsets, and no future leakage. */
@ExtendWith(TestPipelineExtension.class)
class AsOfBoundariesTest {
  static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: edges",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n_7d, agg: count, window: 7d}",
      "  - {name: n_36h, agg: count, window: 36h}",
      "  - {name: dsl, agg: days_since_last}"));

  // As of 2025-01-10 (end_of_day): T = 2025-01-11T00:00Z, T-7d = 01-04T00:00Z, T-36h = 01-09T12:00Z.
  static final String EVENTS = String.join("\n",
      "user_id,ts",
      "u1,2025-01-04T00:00:00Z",        // exactly T-7d: in n_7d
      "u1,2025-01-03T23:59:59.999Z",    // 1 ms before T-7d: out of n_7d, still in dsl's history
      "u1,2025-01-11T00:00:00Z",        // exactly T: never used
      "u1,2025-01-09T12:00:00Z",        // exactly T-36h: in both windows
      "u1,2025-01-11T05:00:00+05:30",   // 2025-01-10T23:30Z: the 11th locally, the 10th in UTC
      "u1,2025-01-10T03:00:00+05:30",   // 2025-01-09T21:30Z
      "u2,2025-01-11T00:00:00Z");       // only an event at T: no row for u2

  static final String LATER = String.join("\n",
      "user_id,ts",
      "u1,2025-01-11T00:00:00.001Z",
      "u1,2025-01-12T10:00:00Z",
      "u2,2025-01-15T00:00:00Z");

  @Test
  void windowsAreHalfOpenAtTheAsOfInstant(TestPipeline p) {
    // dsl: latest event before T is 2025-01-10T23:30Z, 30 minutes before T: 0 whole days.
    PAssert.that(features(p, EVENTS, "Base")).containsInAnyOrder("u1,2025-01-10,4,3,0");
    p.run().waitUntilFinish();
  }

  @Test
  void eventsAfterTheAsOfDateNeverChangeAValue(TestPipeline p) {
    String withLater = EVENTS + "\n" + LATER.substring(LATER.indexOf('\n') + 1);
    PAssert.that(features(p, withLater, "WithLater")).containsInAnyOrder("u1,2025-01-10,4,3,0");
    p.run().waitUntilFinish();
  }

  @Test
  void boundedInputCountsOneTilePerEntityAndDay(TestPipeline p) {
    // Each event becomes a tile and the roll merges a day's tiles. In range (before T): u1 on
    // 01-03, 01-04, 01-09 (two events) and 01-10 in UTC: four day tiles from five events.
    features(p, EVENTS, "Counted");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.TILES), equalTo(4L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.FEATURE_ROWS), equalTo(1L));
  }

  private static PCollection<String> features(TestPipeline p, String csv, String name) {
    return p.apply(name, Create.of(records(csv)).withCoder(RawRecord.RawRecordCoder.of()))
        .apply(name + "Features", BuildFeatures.of(SPEC, AsOfRange.single(LocalDate.parse("2025-01-10"))))
        .get(BuildFeatures.FEATURES)
        .apply(name + "Csv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
  }
}
