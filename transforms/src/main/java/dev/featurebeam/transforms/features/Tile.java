package dev.featurebeam.transforms.features;

import dev.featurebeam.transforms.EventRows;
import java.io.Serializable;
import org.apache.beam.sdk.values.Row;

/**
 * Per (entity, UTC day) partial aggregates: for each feature the aggregate of the whole day and,
 * where the feature's window needs it, of the day's tail from {@link FeaturePlan#cut}. Also the
 * day's first and last event times, which decide row presence and days_since_last exactly.
 */
final class Tile implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The UTC day (days since epoch); Long.MIN_VALUE until the first event or window says. */
  long day = Long.MIN_VALUE;
  long minTs = Long.MAX_VALUE;
  long maxTs = Long.MIN_VALUE;
  final Agg[] full;
  final Agg[] tail;

  Tile(FeaturePlan plan) {
    this(plan.size());
    for (int i = 0; i < full.length; i++) {
      full[i] = new Agg();
      if (plan.cut[i] > 0) {
        tail[i] = new Agg();
      }
    }
  }

  /** An empty shell for {@link TileCoder} to fill. */
  Tile(int features) {
    full = new Agg[features];
    tail = new Agg[features];
  }

  boolean isEmpty() {
    return maxTs == Long.MIN_VALUE;
  }

  void add(FeaturePlan plan, Row event) {
    long ts = EventRows.eventTimeMillis(event, plan.timestampIndex);
    if (day == Long.MIN_VALUE) {
      day = Math.floorDiv(ts, FeaturePlan.DAY);
    }
    minTs = Math.min(minTs, ts);
    maxTs = Math.max(maxTs, ts);
    long timeOfDay = Math.floorMod(ts, FeaturePlan.DAY);
    String tie = plan.tie(event);
    for (int i = 0; i < full.length; i++) {
      if (!plan.matches(i, event)) {
        continue;
      }
      Object value = plan.fieldIndex[i] < 0 ? null : EventRows.plainValue(event, plan.fieldIndex[i]);
      full[i].add(plan.aggs[i], value, ts, tie);
      if (tail[i] != null && timeOfDay >= plan.cut[i]) {
        tail[i].add(plan.aggs[i], value, ts, tie);
      }
    }
  }

  /** Folds {@code other} into this tile; only whole-day aggregates when {@code fullOnly}. */
  void merge(FeaturePlan plan, Tile other, boolean fullOnly) {
    if (other.isEmpty()) {
      return;
    }
    if (day == Long.MIN_VALUE) {
      day = other.day;
    }
    minTs = Math.min(minTs, other.minTs);
    maxTs = Math.max(maxTs, other.maxTs);
    for (int i = 0; i < full.length; i++) {
      full[i].merge(plan.aggs[i], other.full[i]);
      if (!fullOnly && tail[i] != null) {
        tail[i].merge(plan.aggs[i], other.tail[i]);
      }
    }
  }
}
