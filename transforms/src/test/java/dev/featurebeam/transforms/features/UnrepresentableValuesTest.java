package dev.featurebeam.transforms.features;

import static dev.featurebeam.transforms.Fixtures.records;

import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.BuildFeatures;
import dev.featurebeam.transforms.Fixtures;
import java.time.LocalDate;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sums whose exact value their column cannot hold (an int64 sum past the int64 range, a double
 * sum past the double range) become nulls in the row and invalid values beside it, on the bounded
 * and on the streaming path; an average of the same doubles stays exact and finite.
 */
@ExtendWith(TestPipelineExtension.class)
class UnrepresentableValuesTest {
  static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: sums",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  n: {type: long}",
      "  x: {type: double}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n_sum, agg: sum, field: n, window: 7d}",
      "  - {name: x_sum, agg: sum, field: x, window: 7d}",
      "  - {name: x_avg, agg: avg, field: x, window: 7d}",
      "  - {name: cnt, agg: count, window: 7d}"));

  static final String EVENTS = String.join("\n",
      "user_id,n,x,ts",
      "u1,9223372036854775807,1.7e308,2025-01-09T10:00:00Z",
      "u1,1,1.7e308,2025-01-10T10:00:00Z",
      "u2,-9223372036854775808,-1.7e308,2025-01-09T11:00:00Z",
      "u2,-1,2.5,2025-01-10T11:00:00Z",
      "u3,40,2.5,2025-01-10T12:00:00Z");

  static final LocalDate D9 = LocalDate.parse("2025-01-09");
  static final LocalDate D10 = LocalDate.parse("2025-01-10");

  static final List<String> ROWS = List.of(
      "u1,2025-01-09,9223372036854775807,1.7E308,1.7E308,1",
      "u1,2025-01-10,,,1.7E308,2",
      "u2,2025-01-09,-9223372036854775808,-1.7E308,-1.7E308,1",
      "u2,2025-01-10,,-1.7E308,-8.5E307,2",
      "u3,2025-01-10,40,2.5,2.5,1");

  static final List<String> INVALID = List.of(
      "2025-01-10 u1 n_sum: int64 sum overflows: 9223372036854775808 is outside the int64 range",
      "2025-01-10 u1 x_sum: double sum is not finite: the exact value is beyond the double range",
      "2025-01-10 u2 n_sum: int64 sum overflows: -9223372036854775809 is outside the int64 range");

  private static void assertRows(PCollectionTuple built) {
    PAssert.that(built.get(BuildFeatures.FEATURES)
            .apply("Csv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
        .containsInAnyOrder(ROWS);
    PAssert.that(built.get(BuildFeatures.INVALID_VALUES)
            .apply("Text", MapElements.into(TypeDescriptors.strings())
                .via((InvalidValue v) -> LocalDate.ofEpochDay(v.asOfEpochDay()) + " " + v.describe())))
        .containsInAnyOrder(INVALID);
  }

  @Test
  void boundedPath(TestPipeline p) {
    assertRows(p.apply(Create.of(records(EVENTS)).withCoder(RawRecord.RawRecordCoder.of()))
        .apply(BuildFeatures.of(SPEC, AsOfRange.of(D9, D10))));
    p.run().waitUntilFinish();
  }

  @Test
  void streamingPath(TestPipeline p) {
    TestStream.Builder<RawRecord> stream = TestStream.create(RawRecord.RawRecordCoder.of());
    List<RawRecord> records = records(EVENTS);
    for (int day : new int[] {9, 10}) {
      for (RawRecord r : records) {
        String ts = r.fields().get("ts");
        if (ts.startsWith(String.format("2025-01-%02d", day))) {
          stream = stream.addElements(TimestampedValue.of(r, Instant.parse(ts)));
        }
      }
      stream = stream.advanceWatermarkTo(
          Instant.parse(String.format("2025-01-%02dT00:00:00Z", day + 1)));
    }
    PCollection<RawRecord> events = p.apply(stream.advanceWatermarkToInfinity());
    assertRows(events.apply(BuildFeatures.of(SPEC, AsOfRange.of(D9, D10))));
    p.run().waitUntilFinish();
  }
}
