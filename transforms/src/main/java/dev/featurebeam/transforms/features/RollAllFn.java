package dev.featurebeam.transforms.features;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.transforms.BundleCounter;
import dev.featurebeam.transforms.Counters;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;

/**
 * {@link RollTiles}' bounded path: all of an entity's tiles at once. A day may have several
 * ({@link TileInBundles}); the history merges a day's tiles, and the day tiles are counted here.
 */
class RollAllFn extends DoFn<KV<String, Iterable<Encoded<Tile>>>, Row> {
  private final Composer composer;
  private final BundleCounter rows = BundleCounter.of(Counters.FEATURE_ROWS);
  private final BundleCounter tiles = BundleCounter.of(Counters.TILES);

  RollAllFn(Composer composer) {
    this.composer = composer;
  }

  @FinishBundle
  public void finishBundle() {
    BundleCounter.flush(rows, tiles);
  }

  @ProcessElement
  public void process(
      @Element KV<String, Iterable<Encoded<Tile>>> entity, MultiOutputReceiver out) {
    FeaturePlan plan = composer.plan;
    EntityHistory history = new EntityHistory();
    long firstDay = Long.MAX_VALUE;
    for (Encoded<Tile> encoded : entity.getValue()) {
      Tile tile = encoded.get();
      history.add(plan, tile);
      firstDay = Math.min(firstDay, tile.day);
    }
    tiles.inc(history.tiles.size()); // nothing is folded yet: one tile per day with events
    long asOf = composer.firstAsOf(firstDay);
    if (asOf != Long.MAX_VALUE) {
      asOf = history.nextPresent(plan, asOf);
    }
    while (composer.withinRange(asOf)) {
      composer.output(entity.getKey(), history, asOf, out);
      rows.inc();
      long next = history.nextPresent(plan, asOf + FeaturePlan.DAY);
      if (next != Long.MAX_VALUE) {
        history.foldBefore(plan, EntityHistory.firstDayNeeded(plan, next));
      }
      asOf = next;
    }
  }
}
