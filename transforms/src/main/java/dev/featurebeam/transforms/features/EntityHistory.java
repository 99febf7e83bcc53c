package dev.featurebeam.transforms.features;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the roll step keeps per entity: the tiles a future window may still read, by day, and one
 * folded tile holding everything older (read only by whole-history features and presence).
 */
final class EntityHistory implements Serializable {
  private static final long serialVersionUID = 1L;

  final TreeMap<Long, Tile> tiles = new TreeMap<>();
  /** Every tile with a day before {@link #foldedBefore}, merged; null when none. */
  Tile folded;
  long foldedBefore = Long.MIN_VALUE;

  /**
   * Adds a tile; a tile for a day that was already folded (late) is folded too. The history keeps
   * its own copy: tiles are input elements, which a DoFn must not mutate by merging into them.
   */
  boolean add(FeaturePlan plan, Tile tile) {
    if (tile.day < foldedBefore) {
      fold(plan, tile);
      return false;
    }
    Tile existing = tiles.get(tile.day);
    if (existing == null) {
      existing = new Tile(plan);
      tiles.put(tile.day, existing);
    }
    existing.merge(plan, tile, false);
    return true;
  }

  /** Folds every tile with a day before {@code day}: no window of a later as-of time reads them. */
  void foldBefore(FeaturePlan plan, long day) {
    while (!tiles.isEmpty() && tiles.firstKey() < day) {
      fold(plan, tiles.pollFirstEntry().getValue());
    }
    foldedBefore = Math.max(foldedBefore, day);
  }

  private void fold(FeaturePlan plan, Tile tile) {
    if (folded == null) {
      folded = new Tile(plan);
    }
    folded.merge(plan, tile, true);
  }

  /** Whether the entity has an event in [asOf - presence, asOf). */
  boolean present(FeaturePlan plan, long asOf) {
    long asOfDay = Math.floorDiv(asOf, FeaturePlan.DAY);
    if (plan.presence == Long.MAX_VALUE) {
      return folded != null || (!tiles.isEmpty() && tiles.firstKey() < asOfDay);
    }
    long start = asOf - plan.presence;
    for (Map.Entry<Long, Tile> e :
        tiles.subMap(Math.floorDiv(start, FeaturePlan.DAY), true, asOfDay, false).entrySet()) {
      if (e.getValue().maxTs >= start) {
        return true;
      }
    }
    return false;
  }

  /**
   * The first as-of instant at or after {@code from} (a UTC midnight) with a row, or
   * Long.MAX_VALUE: either {@code from} itself, or the first instant after a later tile's day
   * whose window still reaches that tile's last event.
   */
  long nextPresent(FeaturePlan plan, long from) {
    if (present(plan, from)) {
      return from;
    }
    long fromDay = Math.floorDiv(from, FeaturePlan.DAY);
    for (Tile t : tiles.tailMap(fromDay, true).values()) {
      long asOf = (t.day + 1) * FeaturePlan.DAY;
      if (plan.presence == Long.MAX_VALUE || t.maxTs >= asOf - plan.presence) {
        return asOf;
      }
    }
    return Long.MAX_VALUE;
  }

  /** Composes the tiles into feature {@code i}'s window ending at {@code asOf}. */
  Agg window(FeaturePlan plan, int i, long asOf) {
    long asOfDay = Math.floorDiv(asOf, FeaturePlan.DAY);
    Agg acc = new Agg();
    if (plan.window[i] < 0) {
      if (folded != null) {
        acc.merge(plan.aggs[i], folded.full[i]);
      }
      for (Tile t : tiles.headMap(asOfDay, false).values()) {
        acc.merge(plan.aggs[i], t.full[i]);
      }
      return acc;
    }
    long wholeDays = plan.window[i] / FeaturePlan.DAY;
    for (Tile t : tiles.subMap(asOfDay - wholeDays, true, asOfDay, false).values()) {
      acc.merge(plan.aggs[i], t.full[i]);
    }
    if (plan.cut[i] > 0) {
      Tile partial = tiles.get(asOfDay - wholeDays - 1);
      if (partial != null) {
        acc.merge(plan.aggs[i], partial.tail[i]);
      }
    }
    return acc;
  }

  /** The earliest day any window of an as-of instant at or after {@code asOf} reads. */
  static long firstDayNeeded(FeaturePlan plan, long asOf) {
    long asOfDay = Math.floorDiv(asOf, FeaturePlan.DAY);
    if (plan.presence == Long.MAX_VALUE) {
      return asOfDay;
    }
    return Math.floorDiv(asOf - plan.presence, FeaturePlan.DAY);
  }
}
