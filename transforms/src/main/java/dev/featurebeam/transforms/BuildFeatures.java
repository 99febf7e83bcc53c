package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.features.ComputeFeatures;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import javax.annotation.Nullable;
import org.joda.time.Instant;

/**
 * The whole feature path between a source and the sinks, shared by batch and streaming: validate,
 * clean, de-duplicate, keep the run's range, compute features. Outputs {@link #FEATURES} (rows in
 * the spec's output schema), {@link #QUARANTINED} (validation's and cleaning's) and {@link
 * #INVALID_VALUES}.
 *
 * <pre>{@code
 * PCollectionTuple built = records.apply(BuildFeatures.of(spec, AsOfRange.of(from, to)));
 * PCollection<Row> features = built.get(BuildFeatures.FEATURES);
 * }</pre>
 *
 * <p>De-duplication and the features each have a cheaper implementation for bounded input, which
 * {@code AUTO} (the default) picks by the input's boundedness; {@link #withDeduplicationMethod}
 * and {@link #withFeaturesMethod} choose one. Every choice gives the same rows.
 */
@AutoValue
public abstract class BuildFeatures extends PTransform<PCollection<RawRecord>, PCollectionTuple> {
  public static final TupleTag<Row> FEATURES = ComputeFeatures.FEATURES;
  public static final TupleTag<QuarantineRecord> QUARANTINED = ValidateRecords.QUARANTINED;
  /** Feature values their columns cannot hold; see {@link ComputeFeatures#INVALID_VALUES}. */
  public static final TupleTag<InvalidValue> INVALID_VALUES = ComputeFeatures.INVALID_VALUES;
  /**
   * The valid, de-duplicated events some as-of date of the range reads (before the last as-of
   * instant): what an online store's states as of the range's end are built from.
   */
  public static final TupleTag<Row> EVENTS = new TupleTag<Row>() {};
  /**
   * The valid, cleaned events as they come, before de-duplication (which on a stream decides a
   * copy only once its day has closed): what a stream's online writer de-duplicates as copies
   * arrive, to keep the online store within a second of the events.
   */
  public static final TupleTag<Row> CLEANED = new TupleTag<Row>() {};

  abstract FeatureSpec spec();

  abstract AsOfRange range();

  abstract DeduplicateEvents.Method deduplicationMethod();

  abstract ComputeFeatures.Method featuresMethod();

  abstract FaultForTests fault();

  abstract @Nullable StageCounts counts();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setRange(AsOfRange range);

    abstract Builder setDeduplicationMethod(DeduplicateEvents.Method method);

    abstract Builder setFeaturesMethod(ComputeFeatures.Method method);

    abstract Builder setFault(FaultForTests fault);

    abstract Builder setCounts(@Nullable StageCounts counts);

    abstract BuildFeatures build();
  }

  /** The features of {@code spec} as of each date of {@code range}. */
  public static BuildFeatures of(FeatureSpec spec, AsOfRange range) {
    checkNotNull(spec, "a spec is needed");
    checkNotNull(range, "a range is needed");
    return new AutoValue_BuildFeatures.Builder()
        .setSpec(spec)
        .setRange(range)
        .setDeduplicationMethod(DeduplicateEvents.Method.AUTO)
        .setFeaturesMethod(ComputeFeatures.Method.AUTO)
        .setFault(FaultForTests.NONE)
        .build();
  }

  /** See {@link DeduplicateEvents#withMethod}. */
  public BuildFeatures withDeduplicationMethod(DeduplicateEvents.Method method) {
    return toBuilder()
        .setDeduplicationMethod(checkNotNull(method, "a method is needed"))
        .build();
  }

  /** See {@link ComputeFeatures#withMethod}. */
  public BuildFeatures withFeaturesMethod(ComputeFeatures.Method method) {
    return toBuilder().setFeaturesMethod(checkNotNull(method, "a method is needed")).build();
  }

  /**
   * Adds the path's counts to {@code counts} as elements too (records read, quarantined by
   * reason, duplicates, {@link StageCounts#UNIQUE}, valid, feature rows), for a pipeline whose
   * counts must survive a restore; the metrics are counted as before.
   */
  public BuildFeatures withCounts(StageCounts counts) {
    return toBuilder().setCounts(checkNotNull(counts, "counts")).build();
  }

  /** For tests: {@code fault} runs before each record's validation and cleaning. */
  BuildFeatures withFaultForTests(FaultForTests fault) {
    return toBuilder().setFault(checkNotNull(fault, "fault")).build();
  }

  @Override
  public PCollectionTuple expand(PCollection<RawRecord> records) {
    PCollectionTuple validated =
        records.apply("Validate", ValidateRecords.of(spec()).withFaultForTests(fault()));
    PCollectionTuple cleaned =
        validated
            .get(ValidateRecords.VALID)
            .apply("Clean", CleanEvents.of(spec()).withFaultForTests(fault()));
    // No copy is decided before the first date closes: until then every earlier record still
    // counts for it (QuarantineLateRecords), so it may still come.
    DeduplicateEvents deduplicate = DeduplicateEvents.of(spec()).withMethod(deduplicationMethod())
        .withFirstDecisionAt(new Instant(spec().asOf().instantOfEpochDay(range().fromDay()) - 1));
    if (counts() != null) {
      deduplicate = deduplicate.withCounts(counts());
    }
    PCollection<Row> unique = cleaned.get(CleanEvents.CLEANED).apply("Deduplicate", deduplicate);
    PCollection<Row> inRange = unique.apply("KeepRange", KeepEventsInRange.of(spec(), range()));
    PCollectionTuple features =
        inRange.apply("Features", ComputeFeatures.of(spec(), range()).withMethod(featuresMethod()));
    PCollection<QuarantineRecord> quarantined =
        PCollectionList.of(validated.get(ValidateRecords.QUARANTINED))
            .and(cleaned.get(CleanEvents.QUARANTINED))
            .apply("AllQuarantined", Flatten.pCollections());
    if (counts() != null) {
      counts().count(Counters.READ, records);
      counts().countQuarantined("Quarantined", quarantined);
      counts().count(StageCounts.UNIQUE, unique);
      counts().count(Counters.VALID, inRange);
      counts().count(Counters.FEATURE_ROWS, features.get(ComputeFeatures.FEATURES));
    }
    return PCollectionTuple.of(FEATURES, features.get(ComputeFeatures.FEATURES))
        .and(QUARANTINED, quarantined)
        .and(INVALID_VALUES, features.get(ComputeFeatures.INVALID_VALUES))
        .and(EVENTS, inRange)
        .and(CLEANED, cleaned.get(CleanEvents.CLEANED));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayItems.range(range()))
        .add(DisplayData.item("deduplicationMethod", deduplicationMethod().name())
            .withLabel("De-duplication method"))
        .add(DisplayData.item("featuresMethod", featuresMethod().name())
            .withLabel("Features method"));
  }
}
