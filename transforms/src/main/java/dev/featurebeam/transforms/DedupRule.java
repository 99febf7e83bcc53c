package dev.featurebeam.transforms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import javax.annotation.Nullable;

/**
 * The de-duplication rule, one implementation for both of {@link DeduplicateEvents}' methods. Among
 * the copies of one dedup key, a copy is dropped when another copy has an earlier event time no more
 * than {@code within} before it, or the same event time and a smaller canonical serialization;
 * identical copies (the same serialization) stand for one. Every other copy is kept. Without a
 * {@code within} (unbounded) exactly one copy is kept: the earliest, ties broken by the smallest
 * serialization.
 *
 * <p>Counts: a copy identical to another copy is an exact duplicate; of each other serialization
 * that is not kept, one copy is a conflicting duplicate. With one kept copy per key that is
 * {@code copies - distinct} exact and {@code distinct - 1} conflicting.
 *
 * <p>A decision needs only the copies' times before it, so a key's copies can be decided a group
 * at a time in event-time order: {@link History} carries the times (and serializations' hashes)
 * of the copies decided so far.
 */
final class DedupRule {
  private DedupRule() {}

  /** One copy of a key, and what to output when it is kept. */
  static final class Copy<T> {
    final long ts;
    final String serialized;
    final T value;

    Copy(long ts, String serialized, T value) {
      this.ts = ts;
      this.serialized = serialized;
      this.value = value;
    }
  }

  /** What {@link #decide} kept, and the dropped copies by kind. */
  static final class Decision<T> {
    final List<Copy<T>> kept = new ArrayList<>();
    long exact;
    long conflicting;
  }

  /**
   * The times of the copies of one key decided so far, each with the hashes of the serializations
   * seen at that time. Ordered by time.
   */
  static final class History {
    final NavigableMap<Long, long[]> seen;

    History() {
      this(new TreeMap<>());
    }

    History(NavigableMap<Long, long[]> seen) {
      this.seen = seen;
    }

    /**
     * Forgets the times that no copy at or after the latest one can look back to: those more than
     * {@code within} before it. The latest always stays.
     */
    void trim(long within) {
      if (!seen.isEmpty()) {
        seen.headMap(seen.lastKey() - within, false).clear();
      }
    }

    long latest() {
      return seen.lastKey();
    }

    private void add(long ts, long hash) {
      long[] hashes = seen.get(ts);
      if (hashes == null) {
        seen.put(ts, new long[] {hash});
      } else if (!contains(hashes, hash)) {
        long[] more = Arrays.copyOf(hashes, hashes.length + 1);
        more[hashes.length] = hash;
        seen.put(ts, more);
      }
    }

    private boolean saw(long ts, long hash) {
      long[] hashes = seen.get(ts);
      return hashes != null && contains(hashes, hash);
    }

    private static boolean contains(long[] hashes, long hash) {
      for (long h : hashes) {
        if (h == hash) {
          return true;
        }
      }
      return false;
    }
  }

  private static final Comparator<Copy<?>> ORDER =
      Comparator.<Copy<?>>comparingLong(c -> c.ts).thenComparing(c -> c.serialized);

  /**
   * Decides {@code copies} of one key, in any order, after the copies in {@code history}, which
   * gains them. Copies whose time is in the history already (which arrive after their time was
   * decided) are dropped: that time has its decision.
   */
  static <T> Decision<T> decide(List<Copy<T>> copies, History history, @Nullable Long within) {
    List<Copy<T>> sorted = new ArrayList<>(copies);
    sorted.sort(ORDER);
    Decision<T> decision = new Decision<>();
    int i = 0;
    while (i < sorted.size()) {
      long ts = sorted.get(i).ts;
      boolean decided = history.seen.containsKey(ts);
      Long previous = history.seen.lowerKey(ts);
      boolean keep = !decided
          && (previous == null || (within != null && ts - previous > within));
      boolean first = true;
      String last = null;
      for (; i < sorted.size() && sorted.get(i).ts == ts; i++) {
        Copy<T> copy = sorted.get(i);
        long hash = FindRepeatedKeys.hash(copy.serialized);
        boolean repeat = copy.serialized.equals(last) || history.saw(ts, hash);
        if (repeat) {
          decision.exact++;
        } else if (keep && first) {
          decision.kept.add(copy);
        } else {
          decision.conflicting++;
        }
        first = false;
        last = copy.serialized;
        history.add(ts, hash);
      }
    }
    return decision;
  }
}
