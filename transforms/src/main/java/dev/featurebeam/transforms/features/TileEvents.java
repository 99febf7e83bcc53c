package dev.featurebeam.transforms.features;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.Counters;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * Aggregates events into one {@link Tile} per (entity, UTC day): event-time daily windows and a
 * combiner, so each event is read and aggregated once however many windows and as-of dates it
 * falls in, and runners pre-combine before the shuffle. In a stream a day's tile is emitted when
 * the watermark passes the day's end; its timestamp is the day's last millisecond.
 */
public class TileEvents extends PTransform<PCollection<Row>, PCollection<KV<String, Tile>>> {
  private static final Counter TILES = Counters.counter(Counters.TILES);

  private final FeatureSpec spec;

  TileEvents(FeatureSpec spec) {
    this.spec = spec;
  }

  static Coder<Tile> tileCoder() {
    return TileCoder.of();
  }

  @Override
  public PCollection<KV<String, Tile>> expand(PCollection<Row> events) {
    FeaturePlan plan = new FeaturePlan(spec);
    int entity = plan.entityIndex;
    return events
        .apply("KeyByEntity", ParDo.of(new DoFn<Row, KV<String, Row>>() {
          @ProcessElement
          public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
            out.output(KV.of(row.getString(entity), row));
          }
        }))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(spec.eventSchema())))
        .apply("IntoUtcDays", Window.into(FixedWindows.of(Duration.standardDays(1))))
        .apply("AggregateDay", Combine.perKey(new TileFn(plan)))
        .apply("CountTiles", ParDo.of(new DoFn<KV<String, Tile>, KV<String, Tile>>() {
          private transient long tiles;

          @StartBundle
          public void startBundle() {
            tiles = 0;
          }

          @FinishBundle
          public void finishBundle() {
            TILES.inc(tiles);
          }

          @ProcessElement
          public void process(@Element KV<String, Tile> tile, OutputReceiver<KV<String, Tile>> out) {
            tiles++;
            out.output(tile);
          }
        }))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), tileCoder()))
        .apply("IntoGlobal", Window.into(new GlobalWindows()));
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
      return tileCoder();
    }

    @Override
    public Coder<Tile> getDefaultOutputCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      return tileCoder();
    }
  }
}
