package dev.featurebeam.transforms.features;

import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.AsOfRange;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Valid, de-duplicated events in; one feature row per (entity, as-of date) out ({@link #FEATURES}),
 * in the spec's output schema, and the values no column can hold ({@link #INVALID_VALUES}). Tiles per (entity, day), then rolls them into every window for every as-of date.
 * Works on bounded and unbounded input alike: both steps run in event time.
 */
public class ComputeFeatures extends PTransform<PCollection<Row>, PCollectionTuple> {
  /** One row per (entity, as-of date) with an event in the presence window. */
  public static final TupleTag<Row> FEATURES = new TupleTag<Row>() {};

  /**
   * Values the rows could not hold (their place in the row is null); a sink must not publish the
   * partitions they belong to.
   */
  public static final TupleTag<InvalidValue> INVALID_VALUES = new TupleTag<InvalidValue>() {};

  private final FeatureSpec spec;
  private final AsOfRange range;

  private ComputeFeatures(FeatureSpec spec, AsOfRange range) {
    this.spec = spec;
    this.range = range;
  }

  public static ComputeFeatures of(FeatureSpec spec, AsOfRange range) {
    return new ComputeFeatures(spec, range);
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> events) {
    if (events.isBounded() == PCollection.IsBounded.BOUNDED) {
      // Every event is at hand: tiles merged per bundle, and the roll's grouping by entity merges
      // the rest of each day's tiles. Saves the daily windows' combine, whose pre-combining sort
      // of every event cost more than the shuffle it saved (Flink's batch runner).
      return events
          .apply("TileInBundles", new TileInBundles(spec))
          .apply("Roll", new RollTiles(spec, range));
    }
    return events
        .apply("Tile", new TileEvents(spec))
        .apply("Roll", new RollTiles(spec, range));
  }
}
