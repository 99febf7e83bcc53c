package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.Fixtures.csv;
import static dev.featurebeam.transforms.Fixtures.expectedLines;
import static dev.featurebeam.transforms.Fixtures.records;
import static dev.featurebeam.transforms.Fixtures.resource;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.testing.TestPipelineExtension;
import java.time.LocalDate;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The seed exercises of shared/fixtures through the whole feature composite. */
@ExtendWith(TestPipelineExtension.class)
class WorkedExamplesTest {

  @Test
  void sevenDayAverageEndOfDay(TestPipeline p) {
    FeatureSpec spec = Fixtures.spec("ex1_spec.yaml");
    PCollection<String> rows = run(p, spec, "ex1_transactions.csv", LocalDate.parse("2025-01-10"));
    PAssert.that(rows).containsInAnyOrder(expectedLines(resource("ex1_expected.csv")));
    p.run().waitUntilFinish();
  }

  @Test
  void thirtyDayCountStartOfDay(TestPipeline p) {
    FeatureSpec spec = Fixtures.spec("ex2_spec.yaml");
    PCollection<String> rows = run(p, spec, "ex2_support_tickets.csv", LocalDate.parse("2025-03-01"));
    PAssert.that(rows).containsInAnyOrder(expectedLines(resource("ex2_expected.csv")));
    p.run().waitUntilFinish();
  }

  static PCollection<String> run(TestPipeline p, FeatureSpec spec, String data, LocalDate date) {
    return p.apply(Create.of(records(resource(data))).withCoder(RawRecord.RawRecordCoder.of()))
        .apply(BuildFeatures.of(spec, AsOfRange.single(date)))
        .get(BuildFeatures.FEATURES)
        .apply(MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
  }
}
