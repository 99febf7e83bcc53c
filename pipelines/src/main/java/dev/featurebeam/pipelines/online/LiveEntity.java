package dev.featurebeam.pipelines.online;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.EventRows;
import dev.featurebeam.transforms.features.EntityState;
import dev.featurebeam.transforms.features.StateParts;
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
 *
 * <p>It also remembers what the store holds as far as this writer knows (the version its last
 * write was computed to, and how many events of each kept day that write covered), so that the
 * next write is a delta: the new events of the days that grew, the days a removal changed whole.
 * A day only grows at its end ({@link EntityState#eventsOf}), so its new events are the tail past
 * what was sent.
 */
final class LiveEntity {
  private static final long DAY = 86_400_000L;
  final EntityState state;
  /** Events before it are in the state already (the base's); Long.MIN_VALUE without a base. */
  final long baseWatermark;
  /** Per dedup key, the serializations seen at each time. */
  private final Map<String, NavigableMap<Long, TreeSet<String>>> copies;
  /** The version the last write was computed to; null before any (the next write is whole). */
  private RedisStateStore.Version synced;
  /** Per kept day, how many of its first events the last write covered; -1: send it whole. */
  private final Map<Long, Integer> syncedDays;

  private LiveEntity(EntityState state, long baseWatermark,
      Map<String, NavigableMap<Long, TreeSet<String>>> copies, RedisStateStore.Version synced,
      Map<Long, Integer> syncedDays) {
    this.state = state;
    this.baseWatermark = baseWatermark;
    this.copies = copies;
    this.synced = synced;
    this.syncedDays = syncedDays;
  }

  static LiveEntity fresh(FeatureSpec spec) {
    return new LiveEntity(EntityState.of(spec), Long.MIN_VALUE, new HashMap<>(), null,
        new HashMap<>());
  }

  static LiveEntity fresh(StateParts parts) {
    return new LiveEntity(parts.empty(), Long.MIN_VALUE, new HashMap<>(), null, new HashMap<>());
  }

  /**
   * Starts from a batch run's base. The batch wrote the same state beside it, so the first write
   * is a delta on top of the base's version; when the store has moved on since, the guard answers
   * that and the writer sends the whole state.
   */
  static LiveEntity fromBase(EntityState base, long baseWatermark) {
    LiveEntity live = new LiveEntity(base, baseWatermark, new HashMap<>(), null, new HashMap<>());
    live.markSynced();
    return live;
  }

  /** The version of the state now. */
  RedisStateStore.Version version() {
    return new RedisStateStore.Version(state.latestEventMillis(), state.eventCount(),
        state.digest());
  }

  private void markSynced() {
    synced = version();
    syncedDays.clear();
    for (long day : state.keptDays()) {
      syncedDays.put(day, state.eventsOf(day).size());
    }
  }

  /**
   * The write that brings the store from what this writer last wrote to the state now: a delta
   * after a first write, else whole. Counts it as sent: the next is computed on top of it.
   */
  RedisStateStore.Write nextWrite(StateParts parts, String key, long watermark,
      long expireAtMillis) {
    List<RedisStateStore.DayEvents> days = new ArrayList<>();
    for (long day : state.keptDays()) {
      List<Row> events = state.eventsOf(day);
      Integer sent = synced == null ? null : syncedDays.get(day);
      if (sent == null || sent < 0) {
        days.add(new RedisStateStore.DayEvents(day, false, parts.events(events)));
      } else if (events.size() > sent) {
        days.add(new RedisStateStore.DayEvents(day, true,
            parts.events(events.subList(sent, events.size()))));
      }
    }
    RedisStateStore.Write write = new RedisStateStore.Write(key, parts.tiles(state), version(),
        watermark, expireAtMillis, synced, state.keptDays(), days);
    markSynced();
    return write;
  }

  /** The whole state as a write, for a store that does not hold what the last delta built on. */
  RedisStateStore.Write wholeWrite(StateParts parts, String key, long watermark,
      long expireAtMillis) {
    List<RedisStateStore.DayEvents> days = new ArrayList<>();
    for (long day : state.keptDays()) {
      days.add(new RedisStateStore.DayEvents(day, false, parts.events(state.eventsOf(day))));
    }
    return new RedisStateStore.Write(key, parts.tiles(state), version(), watermark,
        expireAtMillis, null, state.keptDays(), days);
  }

  /** Applies one valid, cleaned copy; returns whether the state changed. */
  boolean add(Row event, FeatureSpec spec, int timestampIndex, int keyIndex) {
    long ts = EventRows.eventTimeMillis(event, timestampIndex);
    if (keyIndex < 0 || event.getValue(keyIndex) == null) {
      return addToState(event, EventRows.canonical(event), ts);
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
        if (state.remove(was.getKey(), e -> EventRows.canonical(e).equals(gone))) {
          changed = true;
          // The day lost an event from its middle: the next write sends it whole.
          syncedDays.computeIfPresent(Math.floorDiv(was.getKey(), DAY), (d, n) -> -1);
        }
      }
    }
    if (serialized.equals(after.get(ts))) {
      changed |= addToState(event, serialized, ts);
    }
    return changed;
  }

  private boolean addToState(Row event, String canonical, long ts) {
    if (ts < baseWatermark) {
      return false;
    }
    state.add(event, canonical);
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

  /**
   * The state by its own coder, the base watermark, each key's times and serializations, then
   * what the last write covered.
   */
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
      data.writeBoolean(value.synced != null);
      if (value.synced != null) {
        data.writeLong(value.synced.latest());
        data.writeLong(value.synced.count());
        data.writeLong(value.synced.digest());
      }
      VarInt.encode(value.syncedDays.size(), data);
      for (Map.Entry<Long, Integer> d : value.syncedDays.entrySet()) {
        data.writeLong(d.getKey());
        data.writeInt(d.getValue());
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
      RedisStateStore.Version synced = null;
      if (data.readBoolean()) {
        synced = new RedisStateStore.Version(data.readLong(), data.readLong(), data.readLong());
      }
      int days = VarInt.decodeInt(data);
      Map<Long, Integer> syncedDays = new HashMap<>();
      for (int i = 0; i < days; i++) {
        syncedDays.put(data.readLong(), data.readInt());
      }
      return new LiveEntity(state, base, copies, synced, syncedDays);
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
