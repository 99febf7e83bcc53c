package dev.featurebeam.transforms.features;

import dev.featurebeam.coders.BulkCoder;
import dev.featurebeam.spec.FeatureSpec;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * The bounded counterpart of {@link TileEvents}: each event becomes a {@link Tile} of its own,
 * keyed by entity, and {@link RollTiles} merges a day's tiles when it groups them. A tile is
 * smaller on the wire than the event row, and merging is exact in any order ({@link Agg}), so the
 * rows are the ones daily windows and a combiner give.
 */
class TileEachEvent extends PTransform<PCollection<Row>, PCollection<KV<String, Tile>>> {
  private final FeatureSpec spec;

  TileEachEvent(FeatureSpec spec) {
    this.spec = spec;
  }

  @Override
  public PCollection<KV<String, Tile>> expand(PCollection<Row> events) {
    return events
        .apply("ToTile", ParDo.of(new ToTileFn(new FeaturePlan(spec))))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), BulkCoder.of(TileCoder.of())));
  }

  static class ToTileFn extends DoFn<Row, KV<String, Tile>> {
    private final FeaturePlan plan;

    ToTileFn(FeaturePlan plan) {
      this.plan = plan;
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<KV<String, Tile>> out) {
      Tile tile = new Tile(plan);
      tile.add(plan, event);
      out.output(KV.of(event.getString(plan.entityIndex), tile));
    }
  }
}
