package dev.featurebeam.transforms.features;

import com.google.auto.value.AutoValue;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.BundleCounter;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.DisplayItems;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * The tiling of {@link ComputeFeatures.Method#STATE_AND_TIMERS}: aggregates events into one
 * {@link Tile} per (entity, UTC day) with event-time daily windows and a combiner, so each event
 * is read and aggregated once however many windows and as-of dates it falls in, and runners
 * pre-combine before the shuffle. In a stream a day's tile is emitted when the watermark passes
 * the day's end; its timestamp is the day's last millisecond. Counts {@code tiles}.
 */
@AutoValue
abstract class TileEvents extends PTransform<PCollection<Row>, PCollection<KV<String, Tile>>> {
  abstract FeatureSpec spec();

  static TileEvents of(FeatureSpec spec) {
    return new AutoValue_TileEvents(spec);
  }

  @Override
  public PCollection<KV<String, Tile>> expand(PCollection<Row> events) {
    FeaturePlan plan = new FeaturePlan(spec());
    return events
        .apply("KeyByEntity", ParDo.of(new KeyByEntityFn(plan.entityIndex)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(spec().eventSchema())))
        .apply("IntoUtcDays", Window.into(FixedWindows.of(Duration.standardDays(1))))
        .apply("AggregateDay", Combine.perKey(new TileFn(plan)))
        .apply("CountTiles", ParDo.of(new CountTilesFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), TileCoder.of()))
        .apply("IntoGlobal", Window.into(new GlobalWindows()));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayItems.featureSet(spec()));
  }

  static class KeyByEntityFn extends DoFn<Row, KV<String, Row>> {
    private final int entityIndex;

    KeyByEntityFn(int entityIndex) {
      this.entityIndex = entityIndex;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      out.output(KV.of(row.getString(entityIndex), row));
    }
  }

  /** Counts the day tiles as they leave the combine. */
  static class CountTilesFn extends DoFn<KV<String, Tile>, KV<String, Tile>> {
    private final BundleCounter tiles = BundleCounter.of(Counters.TILES);

    @FinishBundle
    public void finishBundle() {
      BundleCounter.flush(tiles);
    }

    @ProcessElement
    public void process(@Element KV<String, Tile> tile, OutputReceiver<KV<String, Tile>> out) {
      tiles.inc();
      out.output(tile);
    }
  }

  /** Folds events into a tile; tiles merge field by field. */
  static class TileFn extends Combine.CombineFn<Row, Tile, Tile> {
    private final FeaturePlan plan;

    TileFn(FeaturePlan plan) {
      this.plan = plan;
    }

    @Override
    public Tile createAccumulator() {
      return new Tile(plan);
    }

    @Override
    public Tile addInput(Tile tile, Row event) {
      tile.add(plan, event);
      return tile;
    }

    @Override
    public Tile mergeAccumulators(Iterable<Tile> tiles) {
      Tile merged = null;
      for (Tile t : tiles) {
        if (merged == null) {
          merged = t;
        } else {
          merged.merge(plan, t, false);
        }
      }
      return merged == null ? createAccumulator() : merged;
    }

    @Override
    public Tile extractOutput(Tile tile) {
      return tile;
    }

    @Override
    public Coder<Tile> getAccumulatorCoder(CoderRegistry registry, Coder<Row> inputCoder)
        throws CannotProvideCoderException {
      return TileCoder.of();
    }

    @Override
    public Coder<Tile> getDefaultOutputCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      return TileCoder.of();
    }
  }
}
