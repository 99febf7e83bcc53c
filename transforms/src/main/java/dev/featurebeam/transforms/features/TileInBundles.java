package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.BundleOutput;
import dev.featurebeam.transforms.DisplayItems;
import dev.featurebeam.transforms.EventRows;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * The tiling of {@link ComputeFeatures.Method#GROUP_BY_ENTITY}, the bounded counterpart of {@link
 * TileEvents}: events become {@link Tile}s keyed by entity, merged per (entity, day) within a
 * bundle as far as a bounded number of open tiles allows, and {@link RollTiles} merges the rest of
 * a day's tiles when it groups them. Merging is exact in any order ({@link Agg}), so the rows are
 * the ones daily windows and a combiner give.
 *
 * <p>Why by hand and not a {@code Combine.perKey}: Flink's batch runner lifts a combiner as a
 * sort of every input element by key before the shuffle, which costs as much as the shuffle it
 * saves. A hash map per bundle needs no sort, and on input that arrives roughly in time order (logs,
 * the generator) it merges most of a day's events of an entity before they are shuffled.
 */
@AutoValue
abstract class TileInBundles extends PTransform<PCollection<Row>, PCollection<KV<String, Tile>>> {
  /** Open tiles a bundle keeps before it emits them all; bounds its memory (a few KB a tile). */
  static final int MAX_OPEN_TILES = 50_000;

  abstract FeatureSpec spec();

  abstract int maxOpenTiles();

  static TileInBundles of(FeatureSpec spec) {
    return new AutoValue_TileInBundles(spec, MAX_OPEN_TILES);
  }

  /** For tests: emit a bundle's tiles whenever it holds {@code maxOpenTiles}. */
  TileInBundles withMaxOpenTiles(int maxOpenTiles) {
    checkArgument(maxOpenTiles >= 1, "maxOpenTiles must be at least 1, got %s", maxOpenTiles);
    return new AutoValue_TileInBundles(spec(), maxOpenTiles);
  }

  @Override
  public PCollection<KV<String, Tile>> expand(PCollection<Row> events) {
    checkArgument(events.isBounded() == PCollection.IsBounded.BOUNDED,
        "TileInBundles needs a bounded input: its tiles are complete only when the input is");
    return events
        // Tiles of one bundle are merged whatever their windows were: bounded features are
        // computed over the whole input, so group in the global window.
        .apply("InGlobalWindow", Window.<Row>into(new GlobalWindows()))
        .apply("ToTiles", ParDo.of(new ToTilesFn(new FeaturePlan(spec()), maxOpenTiles())))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), TileCoder.of()));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayData.item("maxOpenTiles", maxOpenTiles()).withLabel("Open tiles per bundle"));
  }

  /** Merges a bundle's events into open tiles; emits them all when too many are open, and at its end. */
  static class ToTilesFn extends DoFn<Row, KV<String, Tile>> {
    private final FeaturePlan plan;
    private final int maxOpenTiles;
    private transient Map<EntityDay, Tile> open;

    ToTilesFn(FeaturePlan plan, int maxOpenTiles) {
      this.plan = plan;
      this.maxOpenTiles = maxOpenTiles;
    }

    @StartBundle
    public void startBundle() {
      open = new HashMap<>();
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<KV<String, Tile>> out) {
      String entity = event.getString(plan.entityIndex);
      long day =
          Math.floorDiv(EventRows.eventTimeMillis(event, plan.timestampIndex), FeaturePlan.DAY);
      open.computeIfAbsent(new EntityDay(entity, day), k -> new Tile(plan)).add(plan, event);
      if (open.size() >= maxOpenTiles) {
        emitAll(BundleOutput.of(out));
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      emitAll(BundleOutput.atEndOfGlobalWindow(context));
      open = null;
    }

    private void emitAll(BundleOutput<KV<String, Tile>> out) {
      for (Map.Entry<EntityDay, Tile> e : open.entrySet()) {
        out.output(KV.of(e.getKey().entity, e.getValue()));
      }
      open.clear();
    }
  }

  private static final class EntityDay {
    final String entity;
    final long day;

    EntityDay(String entity, long day) {
      this.entity = entity;
      this.day = day;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof EntityDay
          && ((EntityDay) o).day == day
          && ((EntityDay) o).entity.equals(entity);
    }

    @Override
    public int hashCode() {
      return entity.hashCode() * 31 + Long.hashCode(day);
    }
  }
}
