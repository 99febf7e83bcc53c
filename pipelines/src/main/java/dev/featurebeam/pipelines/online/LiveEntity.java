package dev.featurebeam.pipelines.online;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.EventRows;
import dev.featurebeam.transforms.features.EntityState;
import dev.featurebeam.transforms.features.StateParts;
import com.google.common.io.ByteStreams;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
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
  /** Per dedup key, the copies seen. */
  private final Map<String, Seen> copies;
  /** The least latest copy of the keys {@link #add} changed since {@link #takeTouched}. */
  private long touched = Long.MAX_VALUE;
  /** The version the last write was computed to; null before any (the next write is whole). */
  private RedisStateStore.Version synced;
  /** Per kept day, how many of its first events the last write covered; -1: send it whole. */
  private final Map<Long, Integer> syncedDays;

  private LiveEntity(EntityState state, long baseWatermark,
      Map<String, Seen> copies, RedisStateStore.Version synced,
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
      if (ts < baseWatermark) {
        return false;
      }
      state.add(event, EventRows.canonical(event));
      return true;
    }
    long within = spec.dedupWithinMillis();
    String key = event.getValue(keyIndex).toString();
    String serialized = EventRows.canonical(event);
    Seen one = copies.get(key);
    if (one == null) {
      // A key's first copy is kept: no copy of it is earlier.
      // Null when the base holds it already or the state folded it.
      Row held = ts < baseWatermark ? null : state.add(event, serialized);
      copies.put(key, new Seen(ts, held == null ? serialized : held));
      touched = Math.min(touched, ts);
      return ts >= baseWatermark;
    }
    if (one.many == null && one.onlyTime == ts && one.onlyText().equals(serialized)) {
      return false; // an exact duplicate: nothing changes
    }
    NavigableMap<Long, TreeSet<String>> seen = one.all();
    TreeSet<String> at = seen.get(ts);
    if (at != null && at.contains(serialized)) {
      return false; // an exact duplicate: nothing changes
    }
    // Only copies at ts up to ts + within can change their fate.
    Map<Long, String> before = kept(seen, ts, ts + within, within);
    seen.computeIfAbsent(ts, t -> new TreeSet<>()).add(serialized);
    touched = Math.min(touched, seen.lastKey());
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
    if (serialized.equals(after.get(ts)) && ts >= baseWatermark) {
      state.add(event, serialized);
      changed = true;
    }
    return changed;
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
    for (Iterator<Seen> it = copies.values().iterator(); it.hasNext(); ) {
      long last = it.next().last();
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

  /**
   * The least latest copy of the keys {@link #add} changed since the last call (Long.MAX_VALUE
   * when none): a forget timer set by {@link #earliestRemembered} before, or at most this, covers
   * every key, without going through them all on each flush. Not kept by the coder.
   */
  long takeTouched() {
    long t = touched;
    touched = Long.MAX_VALUE;
    return t;
  }

  /**
   * The copies of one dedup key. Nearly every key has one, kept as the event itself (the row the
   * state holds, so a copy costs no second form of the event) or, when the state does not hold
   * it, as its serialization; a second copy of other content or time turns the key into every
   * time's serializations.
   */
  private static final class Seen {
    long onlyTime;
    /** A Row or its canonical String, while {@link #many} is null. */
    Object only;
    NavigableMap<Long, TreeSet<String>> many;

    Seen(long onlyTime, Object only) {
      this.onlyTime = onlyTime;
      this.only = only;
    }

    Seen(NavigableMap<Long, TreeSet<String>> many) {
      this.many = many;
    }

    long last() {
      return many == null ? onlyTime : many.lastKey();
    }

    String onlyText() {
      return only instanceof Row ? EventRows.canonical((Row) only) : (String) only;
    }

    NavigableMap<Long, TreeSet<String>> all() {
      if (many == null) {
        many = new TreeMap<>();
        TreeSet<String> at = new TreeSet<>();
        at.add(onlyText());
        many.put(onlyTime, at);
        only = null;
      }
      return many;
    }
  }

  /** How many dedup keys are remembered (for tests). */
  int rememberedKeys() {
    return copies.size();
  }

  static Coder<LiveEntity> coder(FeatureSpec spec) {
    return new LiveEntityCoder(spec);
  }

  /**
   * Length-prefixed, the state by its own coder, the base watermark, each key's copies (a copy
   * the state holds as its place among the state's events), then what the last write covered.
   *
   * <p>The value is encoded into memory and written in one piece: Flink's checkpoints serialize
   * every entity through this coder, and small writes through Beam's wrapper of Flink's output
   * view took most of that time.
   */
  private static final class LiveEntityCoder extends CustomCoder<LiveEntity> {
    private static final long serialVersionUID = 1L;
    private static final int ONE_HELD = 0;
    private static final int ONE_TEXT = 1;
    private static final int MANY = 2;
    private final Coder<EntityState> states;

    LiveEntityCoder(FeatureSpec spec) {
      this.states = EntityState.checkpointCoder(spec);
    }

    @Override
    public void encode(LiveEntity value, OutputStream out) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
      DataOutputStream data = new DataOutputStream(bytes);
      states.encode(value.state, data);
      data.writeLong(value.baseWatermark);
      Map<Row, Integer> places = places(value);
      VarInt.encode(value.copies.size(), data);
      for (Map.Entry<String, Seen> k : value.copies.entrySet()) {
        StringUtf8Coder.of().encode(k.getKey(), data);
        Seen seen = k.getValue();
        Integer place = seen.only instanceof Row ? places.get(seen.only) : null;
        if (seen.many == null && place != null) {
          data.writeByte(ONE_HELD);
          data.writeLong(seen.onlyTime);
          VarInt.encode(place, data);
        } else if (seen.many == null) {
          data.writeByte(ONE_TEXT);
          data.writeLong(seen.onlyTime);
          StringUtf8Coder.of().encode(seen.onlyText(), data);
        } else {
          data.writeByte(MANY);
          VarInt.encode(seen.many.size(), data);
          for (Map.Entry<Long, TreeSet<String>> t : seen.many.entrySet()) {
            data.writeLong(t.getKey());
            VarInt.encode(t.getValue().size(), data);
            for (String text : t.getValue()) {
              StringUtf8Coder.of().encode(text, data);
            }
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
      VarInt.encode(bytes.size(), out);
      bytes.writeTo(out);
    }

    /** Each held event's index in its day's events, by identity; empty when no copy needs it. */
    private static Map<Row, Integer> places(LiveEntity value) {
      Map<Row, Integer> places = new IdentityHashMap<>();
      if (value.copies.isEmpty()) {
        return places;
      }
      for (long day : value.state.keptDays()) {
        List<Row> events = value.state.eventsOf(day);
        for (int i = 0; i < events.size(); i++) {
          places.put(events.get(i), i);
        }
      }
      return places;
    }

    @Override
    public LiveEntity decode(InputStream in) throws IOException {
      byte[] bytes = new byte[VarInt.decodeInt(in)];
      ByteStreams.readFully(in, bytes);
      DataInputStream data = new DataInputStream(new ByteArrayInputStream(bytes));
      EntityState state = states.decode(data);
      long base = data.readLong();
      int keys = VarInt.decodeInt(data);
      Map<String, Seen> copies = new HashMap<>();
      for (int i = 0; i < keys; i++) {
        String key = StringUtf8Coder.of().decode(data);
        int kind = data.readByte();
        if (kind == ONE_HELD) {
          long t = data.readLong();
          Row held = state.eventsOf(Math.floorDiv(t, DAY)).get(VarInt.decodeInt(data));
          copies.put(key, new Seen(t, held));
        } else if (kind == ONE_TEXT) {
          long t = data.readLong();
          copies.put(key, new Seen(t, StringUtf8Coder.of().decode(data)));
        } else {
          int times = VarInt.decodeInt(data);
          NavigableMap<Long, TreeSet<String>> seen = new TreeMap<>();
          for (int j = 0; j < times; j++) {
            long t = data.readLong();
            int n = VarInt.decodeInt(data);
            TreeSet<String> at = new TreeSet<>();
            for (int m = 0; m < n; m++) {
              at.add(StringUtf8Coder.of().decode(data));
            }
            seen.put(t, at);
          }
          copies.put(key, new Seen(seen));
        }
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
