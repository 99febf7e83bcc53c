package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkArgument;

import dev.featurebeam.spec.Aggregation;
import dev.featurebeam.transforms.EventRows;
import java.util.Arrays;
import org.apache.beam.sdk.values.Row;

/**
 * The features of one entity at any instants T, each exact to the millisecond: a window of length
 * L covers [T - L, T), and only events strictly before T count. Asked at instants in increasing
 * order, it walks the entity's data once.
 *
 * <p>Each feature cuts time into blocks: UTC days for windows of a day or more and for the whole
 * history, blocks of length L (from the epoch) for shorter windows. A window then is the suffix of
 * the block holding T - L (unless it starts on a block's first millisecond), whole days from day
 * {@link Tile}s, and the prefix of T's block. Prefixes grow as T advances (one running aggregate
 * per feature); the suffixes of one block are built by one backward sweep over its events for
 * every upcoming instant whose window starts in it, since T - L only grows. Every event of an
 * edge block is added once per sweep and every tile merged once per window day, so the cost is
 * linear in the instants and the events, however many instants fall on one entity or one day.
 *
 * <p>At a UTC midnight the tiles alone answer ({@link #atDayStart}): each day tile also holds, per
 * feature, the aggregate of the day's tail from where a window ending at a midnight starts. The
 * daily partitions are that case, so they and training rows come from the same composition.
 *
 * <p>Needs the day tiles of every day with events before the last instant, and the events of
 * every day {@link #edgeDays} names (the days a partial block touches).
 */
final class InstantWalk {
  private final FeaturePlan plan;
  private final long[] days;
  private final Tile[] tiles;
  private final long[] ts;
  private final Row[] events;
  private final String[] ties;
  private final long[] instants;
  private final Feature[] features;
  private int next;

  /**
   * @param tiles the entity's day tiles, by day, one per day
   * @param edgeEvents the events of the edge days, in event-time order
   * @param instants the instants to answer, non-decreasing
   */
  InstantWalk(FeaturePlan plan, long[] days, Tile[] tiles, Row[] edgeEvents, long[] instants) {
    this.plan = plan;
    this.days = days;
    this.tiles = tiles;
    this.events = edgeEvents;
    this.instants = instants;
    int n = edgeEvents.length;
    ts = new long[n];
    ties = new String[n];
    for (int e = 0; e < n; e++) {
      Row event = edgeEvents[e];
      ts[e] = EventRows.eventTimeMillis(event, plan.timestampIndex);
      checkArgument(e == 0 || ts[e] >= ts[e - 1], "edge events must be in event-time order");
      ties[e] = plan.tie(event);
    }
    features = new Feature[plan.size()];
    for (int i = 0; i < features.length; i++) {
      features[i] = new Feature(i);
    }
  }

  /** Block length of feature {@code i}: a day, or the window when it is shorter. */
  static long block(FeaturePlan plan, int i) {
    long window = plan.window[i];
    return window > 0 && window < FeaturePlan.DAY ? window : FeaturePlan.DAY;
  }

  /**
   * The days whose events a walk at {@code t} reads: those a partial block of some feature
   * touches. Whole days come from tiles. Calls {@code out} per day, possibly more than once.
   */
  static void edgeDays(FeaturePlan plan, long t, java.util.function.LongConsumer out) {
    if (Math.floorMod(t, FeaturePlan.DAY) == 0) {
      return; // tiles alone answer at a day boundary (atDayStart)
    }
    for (int i = 0; i < plan.size(); i++) {
      long window = plan.window[i];
      long b = block(plan, i);
      long headStart = Math.floorDiv(t, b) * b;
      if (headStart < t) {
        days(headStart, t, out);
      }
      if (window > 0) {
        long cut = t - window;
        long tailEnd = (Math.floorDiv(cut, b) + 1) * b;
        if (b < FeaturePlan.DAY || Math.floorMod(cut, b) != 0) {
          days(cut, tailEnd, out);
        }
      }
    }
  }

  private static void days(long from, long to, java.util.function.LongConsumer out) {
    for (long d = Math.floorDiv(from, FeaturePlan.DAY); d <= Math.floorDiv(to - 1, FeaturePlan.DAY);
        d++) {
      out.accept(d);
    }
  }

  /**
   * Feature {@code i} at {@code t}, a UTC midnight, from day tiles alone: the window's whole days
   * and, when it starts inside a day, that day's tail from the feature's cut ({@link Tile#tail}),
   * which is exactly [t - L, the day's end). The whole history is {@code before} (tiles already
   * merged, or null) and the tiles from index {@code from} on, up to t. The daily partitions ask
   * this at their as-of instants ({@link EntityHistory#window}), the walk at its midnight instants.
   */
  static Agg atDayStart(FeaturePlan plan, int i, long t, long[] days, Tile[] tiles, int from,
      Agg before) {
    checkArgument(Math.floorMod(t, FeaturePlan.DAY) == 0, "%s is not a UTC midnight", t);
    long day = Math.floorDiv(t, FeaturePlan.DAY);
    int end = firstFrom(days, day);
    Agg acc = new Agg();
    if (plan.window[i] < 0) {
      if (before != null) {
        acc.merge(plan.aggs[i], before);
      }
      for (int d = from; d < end; d++) {
        acc.merge(plan.aggs[i], tiles[d].full[i]);
      }
      return acc;
    }
    long wholeDays = plan.window[i] / FeaturePlan.DAY;
    int start = firstFrom(days, day - wholeDays);
    for (int d = start; d < end; d++) {
      acc.merge(plan.aggs[i], tiles[d].full[i]);
    }
    if (plan.cut[i] > 0 && start > 0 && days[start - 1] == day - wholeDays - 1) {
      acc.merge(plan.aggs[i], tiles[start - 1].tail[i]);
    }
    return acc;
  }

  /** The first index of {@code days} (sorted) at or after {@code day}. */
  static int firstFrom(long[] days, long day) {
    int i = Arrays.binarySearch(days, day);
    return i >= 0 ? i : -i - 1;
  }

  /** The aggregates of every feature at the next instant; call once per instant, in order. */
  Agg[] next() {
    checkArgument(next < instants.length, "every instant was answered");
    int k = next++;
    Agg[] out = new Agg[features.length];
    for (int i = 0; i < features.length; i++) {
      out[i] = features[i].at(k);
    }
    return out;
  }

  long instant(int k) {
    return instants[k];
  }

  /** The first event index with a time at or after {@code t}. */
  private int firstEventFrom(long t) {
    int lo = 0;
    int hi = ts.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ts[mid] < t) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }


  private void add(int i, Agg acc, int e) {
    Row event = events[e];
    if (!plan.matches(i, event)) {
      return;
    }
    int field = plan.fieldIndex[i];
    Object value = field < 0 ? null : EventRows.plainValue(event, field);
    acc.add(plan.aggs[i], value, ts[e], ties[e]);
  }

  private static Agg copy(Aggregation agg, Agg source) {
    Agg copy = new Agg();
    copy.merge(agg, source);
    return copy;
  }

  /** One feature's walk state. */
  private final class Feature {
    final int i;
    final Aggregation agg;
    final long window;
    final long block;
    /** The prefix of block {@link #headBlock} up to the last instant, and the next event in it. */
    long headBlock = Long.MIN_VALUE;
    Agg head;
    int headNext;
    /** Suffixes of block {@link #tailBlock} for the instants from {@link #tailFirst} on. */
    long tailBlock = Long.MIN_VALUE;
    int tailFirst;
    Agg[] tails;
    /** Whole history: the tiles before {@link #priorNext}, merged. */
    Agg prior;
    int priorNext;

    Feature(int i) {
      this.i = i;
      this.agg = plan.aggs[i];
      this.window = plan.window[i];
      this.block = block(plan, i);
    }

    Agg at(int k) {
      long t = instants[k];
      if (Math.floorMod(t, FeaturePlan.DAY) == 0) {
        if (window < 0) {
          advancePrior(Math.floorDiv(t, FeaturePlan.DAY));
        }
        return atDayStart(plan, i, t, days, tiles, priorNext, prior);
      }
      long headStart = Math.floorDiv(t, block) * block;
      Agg acc = new Agg();
      if (window < 0) {
        advancePrior(Math.floorDiv(t, FeaturePlan.DAY));
        acc.merge(agg, prior);
      } else {
        long cut = t - window;
        long cutBlock = Math.floorDiv(cut, block);
        boolean partialTail = block < FeaturePlan.DAY || Math.floorMod(cut, block) != 0;
        if (partialTail) {
          acc.merge(agg, tail(k, cutBlock));
        }
        if (block == FeaturePlan.DAY) {
          long firstWholeDay = partialTail ? cutBlock + 1 : cutBlock;
          long endDay = Math.floorDiv(t, FeaturePlan.DAY);
          for (int d = firstFrom(days, firstWholeDay); d < days.length && days[d] < endDay; d++) {
            acc.merge(agg, tiles[d].full[i]);
          }
        }
      }
      if (headStart < t) {
        acc.merge(agg, head(headStart, t));
      }
      return acc;
    }

    private void advancePrior(long day) {
      if (prior == null) {
        prior = new Agg();
      }
      while (priorNext < days.length && days[priorNext] < day) {
        prior.merge(agg, tiles[priorNext++].full[i]);
      }
    }

    /** The events of [headStart, t), kept running while T stays in one block. */
    private Agg head(long headStart, long t) {
      long b = Math.floorDiv(headStart, block);
      if (b != headBlock) {
        headBlock = b;
        head = new Agg();
        headNext = firstEventFrom(headStart);
      }
      while (headNext < ts.length && ts[headNext] < t) {
        add(i, head, headNext++);
      }
      return head;
    }

    /**
     * The events of [T_k - L, end of its block). On entering a new block, sweeps it backwards
     * once for every upcoming instant whose window starts in it (they are consecutive).
     */
    private Agg tail(int k, long cutBlock) {
      if (cutBlock != tailBlock) {
        tailBlock = cutBlock;
        tailFirst = k;
        int last = k;
        while (last + 1 < instants.length
            && Math.floorDiv(instants[last + 1] - window, block) == cutBlock) {
          last++;
        }
        tails = new Agg[last - k + 1];
        long blockEnd = (cutBlock + 1) * block;
        Agg acc = new Agg();
        int e = firstEventFrom(blockEnd) - 1;
        for (int j = last; j >= k; j--) {
          long cut = instants[j] - window;
          while (e >= 0 && ts[e] >= cut) {
            add(i, acc, e--);
          }
          tails[j - k] = j == k ? acc : copy(agg, acc);
        }
      }
      return tails[k - tailFirst];
    }
  }
}
