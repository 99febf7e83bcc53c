package dev.featurebeam.transforms;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.SpecParser;
import java.util.List;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * Applies the spec's declared cleaning to valid events: {@code case: lower|upper} on string fields
 * and {@code default:} where an optional value is missing. (Timestamps are already UTC instants
 * and strings already stripped by {@link ValidateRecords}.) A spec that declares neither passes
 * rows through untouched.
 */
public class CleanEvents extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final FeatureSpec spec;

  private CleanEvents(FeatureSpec spec) {
    this.spec = spec;
  }

  public static CleanEvents of(FeatureSpec spec) {
    return new CleanEvents(spec);
  }

  static boolean hasCleaning(FeatureSpec spec) {
    for (FieldSpec f : spec.fields()) {
      if (f.caseMode() != null || f.defaultValue() != null) {
        return true;
      }
    }
    return false;
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> input) {
    if (!hasCleaning(spec)) {
      return input;
    }
    return input
        .apply("CaseAndDefaults", ParDo.of(new CleanFn(spec)))
        .setCoder(RowCoder.of(spec.eventSchema()));
  }

  static class CleanFn extends DoFn<Row, Row> {
    private final FeatureSpec spec;

    CleanFn(FeatureSpec spec) {
      this.spec = spec;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> out) {
      List<FieldSpec> fields = spec.fields();
      Object[] values = new Object[fields.size()];
      for (int i = 0; i < values.length; i++) {
        FieldSpec f = fields.get(i);
        Object v = row.getValue(i);
        if (v == null && f.defaultValue() != null) {
          v = f.type() == FieldType.TIMESTAMP
              ? new Instant((long) (Long) f.defaultValue())
              : f.defaultValue();
        }
        if (v instanceof String && f.caseMode() != null) {
          v = SpecParser.applyCase((String) v, f.caseMode());
        }
        values[i] = v;
      }
      out.output(Row.withSchema(row.getSchema()).attachValues(java.util.Arrays.asList(values)));
    }
  }
}
