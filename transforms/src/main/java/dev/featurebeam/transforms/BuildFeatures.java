package dev.featurebeam.transforms;

import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.features.ComputeFeatures;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The whole feature path between a source and the sinks, shared by batch and streaming: validate,
 * clean, de-duplicate, keep the run's range, compute features. Outputs {@link #FEATURES} (rows in
 * the spec's output schema), {@link #QUARANTINED} and {@link #INVALID_VALUES}.
 */
public class BuildFeatures extends PTransform<PCollection<RawRecord>, PCollectionTuple> {
  public static final TupleTag<Row> FEATURES = ComputeFeatures.FEATURES;
  public static final TupleTag<QuarantineRecord> QUARANTINED = ValidateRecords.QUARANTINED;
  /** Feature values their columns cannot hold; see {@link ComputeFeatures#INVALID_VALUES}. */
  public static final TupleTag<InvalidValue> INVALID_VALUES = ComputeFeatures.INVALID_VALUES;

  private final FeatureSpec spec;
  private final AsOfRange range;

  private BuildFeatures(FeatureSpec spec, AsOfRange range) {
    this.spec = spec;
    this.range = range;
  }

  public static BuildFeatures of(FeatureSpec spec, AsOfRange range) {
    return new BuildFeatures(spec, range);
  }

  @Override
  public PCollectionTuple expand(PCollection<RawRecord> records) {
    PCollectionTuple validated = records.apply("Validate", ValidateRecords.of(spec));
    PCollectionTuple features =
        validated
            .get(ValidateRecords.VALID)
            .apply("Clean", CleanEvents.of(spec))
            .apply("Deduplicate", DeduplicateEvents.of(spec))
            .apply("KeepRange", KeepEventsInRange.of(spec, range))
            .apply("Features", ComputeFeatures.of(spec, range));
    return PCollectionTuple.of(FEATURES, features.get(ComputeFeatures.FEATURES))
        .and(QUARANTINED, validated.get(ValidateRecords.QUARANTINED))
        .and(INVALID_VALUES, features.get(ComputeFeatures.INVALID_VALUES));
  }
}
