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
   * {@link #tiles} as sorted arrays, rebuilt after the set of days changes: the roll reads
   * every window of every as-of date, and a binary search in an array is far cheaper than a
   * TreeMap sub-map view per window.
   */
  private transient long[] days;
  private transient Tile[] sorted;

  private void snapshot() {
    if (days != null) {
      return;
    }
    days = new long[tiles.size()];
    sorted = new Tile[tiles.size()];
    int i = 0;
    for (Map.Entry<Long, Tile> e : tiles.entrySet()) {
      days[i] = e.getKey();
      sorted[i++] = e.getValue();
    }
  }

  /** The index of the first tile on or after {@code day} (the tile count when none). */
  private int firstFrom(long day) {
    return InstantWalk.firstFrom(days, day);
  }

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
      days = null;
    }
    existing.merge(plan, tile, false);
    return true;
  }

  /** Folds every tile with a day before {@code day}: no window of a later as-of time reads them. */
  void foldBefore(FeaturePlan plan, long day) {
    while (!tiles.isEmpty() && tiles.firstKey() < day) {
      fold(plan, tiles.pollFirstEntry().getValue());
      days = null;
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
    snapshot();
    long asOfDay = Math.floorDiv(asOf, FeaturePlan.DAY);
    if (plan.presence == Long.MAX_VALUE) {
      return folded != null || (days.length > 0 && days[0] < asOfDay);
    }
    long start = asOf - plan.presence;
    int end = firstFrom(asOfDay);
    for (int t = firstFrom(Math.floorDiv(start, FeaturePlan.DAY)); t < end; t++) {
      if (sorted[t].maxTs >= start) {
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
    for (int i = firstFrom(fromDay); i < sorted.length; i++) {
      Tile t = sorted[i];
      long asOf = (t.day + 1) * FeaturePlan.DAY;
      if (plan.presence == Long.MAX_VALUE || t.maxTs >= asOf - plan.presence) {
        return asOf;
      }
    }
    return Long.MAX_VALUE;
  }

  /** Feature {@code i}'s window ending at {@code asOf}, by {@link InstantWalk#atDayStart}. */
  Agg window(FeaturePlan plan, int i, long asOf) {
    snapshot();
    return InstantWalk.atDayStart(plan, i, asOf, days, sorted, 0,
        folded == null ? null : folded.full[i]);
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
