package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.DisplayItems;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Valid, de-duplicated events in; one feature row per (entity, as-of date) out ({@link #FEATURES}),
 * in the spec's output schema, and the values no column can hold ({@link #INVALID_VALUES}). Events
 * are aggregated into tiles per (entity, UTC day), and the tiles rolled into every window of every
 * as-of date. Counts {@code tiles} (one per entity and day with events) and {@code feature_rows}.
 *
 * <p>Two implementations give the same rows and counts; {@link #withMethod} chooses, and {@link
 * Method#AUTO} picks by the input's boundedness:
 *
 * <ul>
 *   <li>{@link Method#GROUP_BY_ENTITY}, bounded input only: tiles are merged per bundle in a hash
 *       map ({@link TileInBundles}), and each entity's tiles are grouped and rolled in one go.
 *   <li>{@link Method#STATE_AND_TIMERS}, any input: daily event-time windows with a combiner
 *       ({@link TileEvents}), then per-entity state and an event-time timer that walks the as-of
 *       instants as the watermark passes them.
 * </ul>
 */
@AutoValue
public abstract class ComputeFeatures extends PTransform<PCollection<Row>, PCollectionTuple> {
  /** One row per (entity, as-of date) with an event in the presence window. */
  public static final TupleTag<Row> FEATURES = new TupleTag<Row>() {};

  /**
   * Values the rows could not hold (their place in the row is null); a sink must not publish the
   * partitions they belong to.
   */
  public static final TupleTag<InvalidValue> INVALID_VALUES = new TupleTag<InvalidValue>() {};

  /** How events become tiles and tiles become rows. */
  public enum Method {
    /** {@link #GROUP_BY_ENTITY} for a bounded input, {@link #STATE_AND_TIMERS} otherwise. */
    AUTO,
    /** Tiles merged per bundle, then each entity's tiles grouped and rolled. Bounded input only. */
    GROUP_BY_ENTITY,
    /** Daily windows with a combiner, then per-entity state and event-time timers. Any input. */
    STATE_AND_TIMERS;

    /** The method {@code AUTO} stands for on {@code input}, or this one. */
    Method resolve(PCollection<?> input) {
      if (this != AUTO) {
        return this;
      }
      return input.isBounded() == PCollection.IsBounded.BOUNDED ? GROUP_BY_ENTITY : STATE_AND_TIMERS;
    }
  }

  abstract FeatureSpec spec();

  abstract AsOfRange range();

  abstract Method method();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setRange(AsOfRange range);

    abstract Builder setMethod(Method method);

    abstract ComputeFeatures build();
  }

  /** The features of {@code spec} as of each date of {@code range}; {@link Method#AUTO}. */
  public static ComputeFeatures of(FeatureSpec spec, AsOfRange range) {
    checkNotNull(spec, "a spec is needed");
    checkNotNull(range, "a range is needed");
    return new AutoValue_ComputeFeatures.Builder()
        .setSpec(spec)
        .setRange(range)
        .setMethod(Method.AUTO)
        .build();
  }

  /** Which implementation runs; {@link Method#GROUP_BY_ENTITY} needs a bounded input. */
  public ComputeFeatures withMethod(Method method) {
    return toBuilder().setMethod(checkNotNull(method, "a method is needed")).build();
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> events) {
    Method method = method().resolve(events);
    checkArgument(method != Method.GROUP_BY_ENTITY
            || events.isBounded() == PCollection.IsBounded.BOUNDED,
        "GROUP_BY_ENTITY needs a bounded input; a stream takes STATE_AND_TIMERS (or AUTO)");
    RollTiles roll = RollTiles.of(spec(), range()).withMethod(method);
    if (method == Method.GROUP_BY_ENTITY) {
      // Tiles merged per bundle, and the roll's grouping by entity merges the rest of each day's
      // tiles: no daily windows' combine, whose pre-combining sort of every event on Flink's batch
      // runner cost more than the shuffle it saved.
      return events.apply("TileInBundles", TileInBundles.of(spec())).apply("Roll", roll);
    }
    return events.apply("Tile", TileEvents.of(spec())).apply("Roll", roll);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayItems.range(range()))
        .add(DisplayData.item("features", spec().features().size()).withLabel("Features"))
        .add(DisplayData.item("method", method().name()).withLabel("Method"));
  }
}
