package dev.featurebeam.transforms.features;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.AsOfRange;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Valid, de-duplicated events in; one feature row per (entity, as-of date) out, in the spec's
 * output schema. Tiles per (entity, day), then rolls them into every window for every as-of date.
 * Works on bounded and unbounded input alike: both steps run in event time.
 */
public class ComputeFeatures extends PTransform<PCollection<Row>, PCollection<Row>> {
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
  public PCollection<Row> expand(PCollection<Row> events) {
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
