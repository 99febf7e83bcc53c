package dev.featurebeam.transforms.features;

import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.transforms.AsOfRange;
import java.io.Serializable;
import java.time.LocalDate;
import java.util.Arrays;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.Row;

/** {@link RollTiles}' range arithmetic and row building, shared by both paths. */
final class Composer implements Serializable {
  private final FeatureSpec spec;
  private final AsOfRange range;
  final FeaturePlan plan;
  private transient Schema outputSchema;

  Composer(FeatureSpec spec, AsOfRange range) {
    this.spec = spec;
    this.range = range;
    this.plan = new FeaturePlan(spec);
  }

  /** The first as-of instant a tile of {@code day} can show in, or Long.MAX_VALUE. */
  long firstAsOf(long day) {
    long first = spec.asOf().instantOfEpochDay(range.fromDay());
    long clipped = Math.max((day + 1) * FeaturePlan.DAY, first);
    return withinRange(clipped) ? clipped : Long.MAX_VALUE;
  }

  boolean withinRange(long asOf) {
    return asOf != Long.MAX_VALUE && range.contains(spec.asOf().epochDayOfInstant(asOf));
  }

  /**
   * The row of {@code entity} as of {@code asOf}, output with any value its column cannot hold
   * (null in the row, the reason on {@link ComputeFeatures#INVALID_VALUES}).
   */
  void output(String entity, EntityHistory history, long asOf, DoFn.MultiOutputReceiver out) {
    if (outputSchema == null) {
      outputSchema = spec.outputSchema();
    }
    long day = spec.asOf().epochDayOfInstant(asOf);
    Object[] values = new Object[plan.size() + 2];
    values[0] = entity;
    values[1] = LocalDate.ofEpochDay(day);
    for (int i = 0; i < plan.size(); i++) {
      Agg acc = history.window(plan, i, asOf);
      try {
        values[i + 2] = acc.result(plan.aggs[i], plan.fieldTypes[i] == FieldType.LONG,
            plan.timestampField[i], asOf);
      } catch (Agg.UnrepresentableException e) {
        out.get(ComputeFeatures.INVALID_VALUES)
            .output(InvalidValue.of(day, entity, spec.features().get(i).name(), e.getMessage()));
      }
    }
    // Values are built to the output schema's types: skip the builder's verification.
    out.get(ComputeFeatures.FEATURES)
        .output(Row.withSchema(outputSchema).attachValues(Arrays.asList(values)));
  }
}
