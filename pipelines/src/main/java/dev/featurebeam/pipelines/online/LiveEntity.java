package dev.featurebeam.pipelines.online;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.EventRows;
import dev.featurebeam.transforms.features.EntityState;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.Row;

/**
 * One entity as a stream's online writer keeps it: its {@link EntityState}, the base it started
 * from, and per dedup key the copies seen, so that the spec's de-duplication rule is applied as
 * copies arrive rather than once their day has closed.
 *
 * <p>The rule (a copy is dropped when another copy of its key has an earlier time no more than
 * {@code dedup_within} before it, or the same time and a smaller serialization) only ever drops
 * more copies as copies come: a copy that arrives after a later one of its key was kept takes that
 * one's place in the state ({@link EntityState#remove}). A key's copies are forgotten when the
 * writer knows no copy that could look back to them can still come ({@link #forgetBefore}, by
 * the stream's watermark, not by the entity's own events: a copy may come days of the entity's
 * events after its original). Copies are de-duplicated per entity: two copies of one key with
 * different entities both count online (the offline path drops one).
 *
 * <p>Events before {@link #baseWatermark} are in the base (a batch run's state) already: they only
 * join the dedup history, so that a later copy of one of them is judged against it.
 */
final class LiveEntity {
  final EntityState state;
  /** Events before it are in the state already (the base's); Long.MIN_VALUE without a base. */
  final long baseWatermark;
  /** Per dedup key, the serializations seen at each time. */
  private final Map<String, NavigableMap<Long, TreeSet<String>>> copies;

  private LiveEntity(EntityState state, long baseWatermark,
      Map<String, NavigableMap<Long, TreeSet<String>>> copies) {
    this.state = state;
    this.baseWatermark = baseWatermark;
    this.copies = copies;
  }

  static LiveEntity fresh(FeatureSpec spec) {
    return new LiveEntity(EntityState.of(spec), Long.MIN_VALUE, new HashMap<>());
  }

  static LiveEntity fromBase(EntityState base, long baseWatermark) {
    return new LiveEntity(base, baseWatermark, new HashMap<>());
  }

  /** Applies one valid, cleaned copy; returns whether the state changed. */
  boolean add(Row event, FeatureSpec spec, int timestampIndex, int keyIndex) {
    long ts = EventRows.eventTimeMillis(event, timestampIndex);
    if (keyIndex < 0 || event.getValue(keyIndex) == null) {
      return addToState(event, ts);
    }
    long within = spec.dedupWithinMillis();
    String key = event.getValue(keyIndex).toString();
    String serialized = EventRows.canonical(event);
    NavigableMap<Long, TreeSet<String>> seen = copies.computeIfAbsent(key, k -> new TreeMap<>());
    TreeSet<String> at = seen.get(ts);
    if (at != null && at.contains(serialized)) {
      return false; // an exact duplicate: nothing changes
    }
    // Only copies at ts up to ts + within can change their fate.
    Map<Long, String> before = kept(seen, ts, ts + within, within);
    seen.computeIfAbsent(ts, t -> new TreeSet<>()).add(serialized);
    Map<Long, String> after = kept(seen, ts, ts + within, within);
    boolean changed = false;
    for (Map.Entry<Long, String> was : before.entrySet()) {
      if (!was.getValue().equals(after.get(was.getKey())) && was.getKey() >= baseWatermark) {
        String gone = was.getValue();
        changed |= state.remove(was.getKey(), e -> EventRows.canonical(e).equals(gone));
      }
    }
    if (serialized.equals(after.get(ts))) {
      changed |= addToState(event, ts);
    }
    return changed;
  }

  private boolean addToState(Row event, long ts) {
    if (ts < baseWatermark) {
      return false;
    }
    state.add(event);
    return true;
  }

  /** The kept copy at each time of [from, to] that has one. */
  private static Map<Long, String> kept(NavigableMap<Long, TreeSet<String>> seen, long from,
      long to, long within) {
    Map<Long, String> kept = new HashMap<>();
    for (Map.Entry<Long, TreeSet<String>> e : seen.subMap(from, true, to, true).entrySet()) {
      long t = e.getKey();
      Long previous = seen.lowerKey(t);
      if (previous == null || t - previous > within) {
        kept.put(t, e.getValue().first());
      }
    }
    return kept;
  }

  /**
   * Forgets the keys whose latest copy is before {@code cutoff}; the caller knows that no copy
   * that could look back to them can still come. Returns the earliest latest copy of the keys
   * still remembered, or Long.MAX_VALUE when none is.
   */
  long forgetBefore(long cutoff) {
    long earliest = Long.MAX_VALUE;
    for (Iterator<NavigableMap<Long, TreeSet<String>>> it = copies.values().iterator();
        it.hasNext(); ) {
      long last = it.next().lastKey();
      if (last < cutoff) {
        it.remove();
      } else {
        earliest = Math.min(earliest, last);
      }
    }
    return earliest;
  }

  /** The earliest latest copy of the keys remembered, or Long.MAX_VALUE when none is. */
  long earliestRemembered() {
    return forgetBefore(Long.MIN_VALUE);
  }

  /** How many dedup keys are remembered (for tests). */
  int rememberedKeys() {
    return copies.size();
  }

  static Coder<LiveEntity> coder(FeatureSpec spec) {
    return new LiveEntityCoder(spec);
  }

  /** The state by its own coder, the base watermark, then each key's times and serializations. */
  private static final class LiveEntityCoder extends CustomCoder<LiveEntity> {
    private static final long serialVersionUID = 1L;
    private final Coder<EntityState> states;

    LiveEntityCoder(FeatureSpec spec) {
      this.states = EntityState.coder(spec);
    }

    @Override
    public void encode(LiveEntity value, OutputStream out) throws IOException {
      states.encode(value.state, out);
      DataOutputStream data = new DataOutputStream(out);
      data.writeLong(value.baseWatermark);
      VarInt.encode(value.copies.size(), data);
      for (Map.Entry<String, NavigableMap<Long, TreeSet<String>>> k : value.copies.entrySet()) {
        data.flush();
        StringUtf8Coder.of().encode(k.getKey(), out);
        VarInt.encode(k.getValue().size(), data);
        for (Map.Entry<Long, TreeSet<String>> t : k.getValue().entrySet()) {
          data.writeLong(t.getKey());
          VarInt.encode(t.getValue().size(), data);
          data.flush();
          for (String s : t.getValue()) {
            StringUtf8Coder.of().encode(s, out);
          }
        }
      }
      data.flush();
    }

    @Override
    public LiveEntity decode(InputStream in) throws IOException {
      EntityState state = states.decode(in);
      DataInputStream data = new DataInputStream(in);
      long base = data.readLong();
      int keys = VarInt.decodeInt(data);
      Map<String, NavigableMap<Long, TreeSet<String>>> copies = new HashMap<>();
      for (int i = 0; i < keys; i++) {
        String key = StringUtf8Coder.of().decode(in);
        int times = VarInt.decodeInt(data);
        NavigableMap<Long, TreeSet<String>> seen = new TreeMap<>();
        for (int j = 0; j < times; j++) {
          long t = data.readLong();
          int n = VarInt.decodeInt(data);
          TreeSet<String> at = new TreeSet<>();
          for (int m = 0; m < n; m++) {
            at.add(StringUtf8Coder.of().decode(in));
          }
          seen.put(t, at);
        }
        copies.put(key, seen);
      }
      return new LiveEntity(state, base, copies);
    }

    @Override
    public List<? extends Coder<?>> getCoderArguments() {
      return new ArrayList<>();
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      throw new NonDeterministicException(this, "an entity state is not deterministic");
    }
  }
}
