package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.hash.Hashing;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.transforms.EventRows;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.Row;

/**
 * What an online store keeps for one entity: enough to give every feature of the spec exactly at
 * any instant at or after the latest event it holds, by the same computation as training rows and
 * daily partitions ({@link InstantWalk}).
 *
 * <p>With H the longest finite window and E the latest event, a window [T - L, T) with T &gt;= E
 * reads nothing before E - H. So the state keeps, from the UTC day of E - H on, each day's tile and
 * its events (a window's edge may fall anywhere in those days), and folds every older day into one
 * tile, which only whole-history features read. Its size is bounded by the events of H plus a day,
 * however long the entity's history. Events may come in any order; one older than the kept days
 * is folded at once, which is exact for every instant the state answers.
 *
 * <p>Not thread-safe; a value, not a view: the caller owns it.
 */
public final class EntityState implements Serializable {
  private static final long serialVersionUID = 1L;

  final FeaturePlan plan;
  /** The longest finite window, 0 when there is none. */
  private final long horizon;
  /** Every event of a day before {@link #firstDay}, merged; null when none. */
  Tile folded;
  final TreeMap<Long, Tile> tiles = new TreeMap<>();
  /** Each kept day's events in the order they were added: a day only grows at its end. */
  final TreeMap<Long, List<Row>> events = new TreeMap<>();
  long firstDay = Long.MIN_VALUE;
  long latest = Long.MIN_VALUE;
  long count;
  /** The sum of {@link #eventHash} over the events added less those taken back. */
  long digest;
  /**
   * Kept days whose events were not read (a store's lookup reads only the days an instant's
   * window edges fall in, see {@link StateParts}); empty for a whole state. A state with any is
   * a read-only view.
   */
  final Set<Long> unread = new HashSet<>();

  EntityState(FeaturePlan plan) {
    this.plan = plan;
    long h = 0;
    for (long w : plan.window) {
      h = Math.max(h, w);
    }
    this.horizon = h;
  }

  /** An empty state for the entities of {@code spec}. */
  public static EntityState of(FeatureSpec spec) {
    checkNotNull(spec, "a spec is needed");
    return new EntityState(new FeaturePlan(spec));
  }

  /** Adds one valid, de-duplicated event in the spec's event schema. */
  public void add(Row event) {
    checkNotNull(event, "an event is needed");
    add(event, EventRows.canonical(event));
  }

  /**
   * {@link #add(Row)} for a caller that holds the event's {@link EventRows#canonical} text
   * already (the stream's writer, which de-duplicates by it): the text is not built twice.
   * Returns the row the state holds for the event (equal to it, its repeated strings shared, see
   * {@link FeaturePlan#compact}), or null when the event was folded into the older days' tile.
   */
  public Row add(Row event, String canonical) {
    checkNotNull(event, "an event is needed");
    checkNotNull(canonical, "the event's canonical text is needed");
    checkWhole();
    long ts = EventRows.eventTimeMillis(event, plan.timestampIndex);
    long day = Math.floorDiv(ts, FeaturePlan.DAY);
    count++;
    digest += hashOf(canonical);
    Row held = null;
    if (day < firstDay) {
      fold().add(plan, event);
    } else {
      held = plan.compact(event);
      tiles.computeIfAbsent(day, d -> new Tile(plan)).add(plan, held);
      events.computeIfAbsent(day, d -> new ArrayList<>()).add(held);
    }
    if (ts > latest) {
      latest = ts;
      long first = Math.floorDiv(ts - horizon, FeaturePlan.DAY);
      while (!tiles.isEmpty() && tiles.firstKey() < first) {
        Map.Entry<Long, Tile> old = tiles.pollFirstEntry();
        fold().merge(plan, old.getValue(), true);
        events.remove(old.getKey());
      }
      firstDay = Math.max(firstDay, first);
    }
    return events.containsKey(day) ? held : null;
  }

  /**
   * Takes back one held event at {@code tsMillis} that {@code which} accepts (a copy that an
   * earlier copy of its dedup key, come later, now drops): its day's tile is built again from the
   * day's other events, so the state is as if it had never been added. Returns false when no held
   * event matches (a folded one cannot be taken back). The latest event time and {@link
   * #eventCount} stay as they are: both only grow, so that a store's guard keeps comparing states
   * of one writer by them.
   */
  public boolean remove(long tsMillis, java.util.function.Predicate<Row> which) {
    checkNotNull(which, "a predicate is needed");
    checkWhole();
    long day = Math.floorDiv(tsMillis, FeaturePlan.DAY);
    List<Row> held = events.get(day);
    if (held == null) {
      return false;
    }
    for (int i = 0; i < held.size(); i++) {
      Row e = held.get(i);
      if (EventRows.eventTimeMillis(e, plan.timestampIndex) == tsMillis && which.test(e)) {
        held.remove(i);
        digest -= eventHash(e);
        if (held.isEmpty()) {
          events.remove(day);
          tiles.remove(day);
        } else {
          Tile tile = new Tile(plan);
          for (Row other : held) {
            tile.add(plan, other);
          }
          tiles.put(day, tile);
        }
        return true;
      }
    }
    return false;
  }

  private void checkWhole() {
    if (!unread.isEmpty()) {
      throw new IllegalStateException("a state read for one instant is a view: it cannot change");
    }
  }

  /**
   * A 64-bit hash of an event's canonical form ({@link EventRows#canonical}): summed over a
   * state's events it tells states with the same latest event and count apart, whatever the order
   * the events came in.
   */
  static long eventHash(Row event) {
    return hashOf(EventRows.canonical(event));
  }

  private static long hashOf(String canonical) {
    return Hashing.murmur3_128().hashString(canonical, StandardCharsets.UTF_8).asLong();
  }

  private Tile fold() {
    if (folded == null) {
      folded = new Tile(plan);
    }
    return folded;
  }

  /** The time of the latest event held, in epoch milliseconds; Long.MIN_VALUE when none. */
  public long latestEventMillis() {
    return latest;
  }

  /**
   * How many events were added, folded ones included: with {@link #latestEventMillis}, what an
   * online store compares so that a write never replaces a state that includes more.
   */
  public long eventCount() {
    return count;
  }

  /**
   * Until when some window can still read the latest event (latest + the longest window), or
   * Long.MAX_VALUE when a whole-history feature reads every event for good; afterwards the state
   * answers as no state does (counts 0, nulls), so an online store may let it expire.
   */
  public long readableUntilMillis() {
    for (long w : plan.window) {
      if (w < 0) {
        return Long.MAX_VALUE;
      }
    }
    return latest == Long.MIN_VALUE ? Long.MIN_VALUE : latest + horizon;
  }

  /**
   * With {@link #latestEventMillis} and {@link #eventCount}, what identifies the events a state
   * holds: the sum of a 64-bit hash of each event added less each taken back, so two states of
   * equal latest and count that hold different events differ here (but for a 2^-64 chance).
   */
  public long digest() {
    return digest;
  }

  /** The days whose tiles and events are kept one by one (later than the folded ones), in order. */
  public long[] keptDays() {
    long[] days = new long[tiles.size()];
    int i = 0;
    for (long d : tiles.keySet()) {
      days[i++] = d;
    }
    return days;
  }

  /** The events of a kept day, in the order they were added (a day only grows at its end). */
  public List<Row> eventsOf(long day) {
    checkArgument(!unread.contains(day), "the events of day %s were not read", day);
    List<Row> held = events.get(day);
    return held == null ? List.of() : Collections.unmodifiableList(held);
  }

  /** A coder for the states of {@code spec}'s entities, for an online store's bytes. */
  public static Coder<EntityState> coder(FeatureSpec spec) {
    return new StateCoder(spec);
  }

  /**
   * A coder for a stream's checkpoints of the states of {@code spec}'s entities: faster and
   * smaller than {@link #coder}, and not for bytes that outlive the stream.
   */
  public static Coder<EntityState> checkpointCoder(FeatureSpec spec) {
    return new CheckpointStateCoder(spec);
  }

  /** How many events the state holds one by one (the folded ones not counted). */
  public int heldEvents() {
    int n = 0;
    for (List<Row> day : events.values()) {
      n += day.size();
    }
    return n;
  }

  /**
   * Every feature at {@code instantMillis}, in spec order, with the offline store's types
   * (timestamps as Joda instants): a window [T - L, T), only events strictly before T. A value no
   * column can hold (an int64 sum that overflows) is null.
   *
   * @throws IllegalArgumentException for an instant before the latest event held: the state no
   *     longer knows the past (a training set computes it from the events)
   */
  public List<Object> featuresAt(long instantMillis) {
    checkArgument(instantMillis >= latest,
        "%s is before the latest event the state holds (%s): the state answers only at or after"
            + " it; compute earlier instants with a training set",
        java.time.Instant.ofEpochMilli(instantMillis), java.time.Instant.ofEpochMilli(latest));
    if (!unread.isEmpty()) {
      InstantWalk.edgeDays(plan, instantMillis, d -> checkArgument(!unread.contains(d),
          "the events of day %s, which a window edge at %s falls in, were not read", d,
          java.time.Instant.ofEpochMilli(instantMillis)));
    }
    // The folded tile sits just before the kept days: only whole-history features reach it.
    int n = tiles.size() + (folded == null ? 0 : 1);
    long[] days = new long[n];
    Tile[] sorted = new Tile[n];
    int k = 0;
    if (folded != null) {
      days[0] = firstDay - 1; // set: events are folded only once a first day is
      sorted[k++] = folded;
    }
    for (Map.Entry<Long, Tile> e : tiles.entrySet()) {
      days[k] = e.getKey();
      sorted[k++] = e.getValue();
    }
    List<Row> held = new ArrayList<>(heldEvents());
    events.values().forEach(held::addAll);
    held.sort(Comparator.comparingLong(e -> EventRows.eventTimeMillis(e, plan.timestampIndex)));
    Agg[] aggs = new InstantWalk(plan, days, sorted, held.toArray(new Row[0]),
        new long[] {instantMillis}).next();
    Object[] values = new Object[aggs.length];
    for (int i = 0; i < aggs.length; i++) {
      try {
        values[i] = aggs[i].result(plan.aggs[i], plan.fieldTypes[i] == FieldType.LONG,
            plan.timestampField[i], instantMillis);
      } catch (Agg.UnrepresentableException e) {
        values[i] = null;
      }
    }
    return Arrays.asList(values);
  }

  /**
   * The version and the folded tile, as the coder and {@link StateParts#tiles} both begin: latest,
   * count, digest, first kept day, then the folded tile if there is one.
   */
  void writeHeader(DataOutputStream data) throws IOException {
    data.writeLong(latest);
    data.writeLong(count);
    data.writeLong(digest);
    data.writeLong(firstDay);
    data.writeBoolean(folded != null);
    if (folded != null) {
      TileCoder.writeTile(folded, data);
    }
  }

  /** Reads what {@link #writeHeader} wrote into this (empty) state. */
  void readHeader(DataInputStream data) throws IOException {
    latest = data.readLong();
    count = data.readLong();
    digest = data.readLong();
    firstDay = data.readLong();
    if (data.readBoolean()) {
      folded = TileCoder.readTile(data);
    }
  }

  /** How a coder writes a kept day's events, one at a time, in the day's order. */
  interface EventWriter {
    void write(Row event, long day, DataOutputStream data) throws IOException;
  }

  /** How a coder reads back what its {@link EventWriter} wrote. */
  interface EventReader {
    Row read(long day, DataInputStream data) throws IOException;
  }

  /**
   * The frame both of a state's coders write: {@link #writeHeader}, then per kept day its tile,
   * its count of events and the events by {@code writer}.
   */
  void writeFrame(DataOutputStream data, EventWriter writer) throws IOException {
    writeHeader(data);
    VarInt.encode(tiles.size(), data);
    for (Map.Entry<Long, Tile> e : tiles.entrySet()) {
      TileCoder.writeTile(e.getValue(), data);
      List<Row> day = events.get(e.getKey());
      VarInt.encode(day.size(), data);
      for (Row event : day) {
        writer.write(event, e.getKey(), data);
      }
    }
    data.flush();
  }

  /** Reads what {@link #writeFrame} wrote, the events by {@code reader}. */
  static EntityState readFrame(FeaturePlan plan, DataInputStream data, EventReader reader)
      throws IOException {
    EntityState state = new EntityState(plan);
    state.readHeader(data);
    int days = VarInt.decodeInt(data);
    for (int d = 0; d < days; d++) {
      Tile tile = TileCoder.readTile(data);
      int n = VarInt.decodeInt(data);
      List<Row> day = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        day.add(reader.read(tile.day, data));
      }
      state.tiles.put(tile.day, tile);
      state.events.put(tile.day, day);
    }
    return state;
  }

  /**
   * The latest event, the count, the digest and the first kept day, the folded tile, then per kept day its
   * tile and its events (in the spec's event schema). Not deterministic: a tile's distinct values
   * keep a hash set's order.
   */
  static final class StateCoder extends CustomCoder<EntityState> {
    private static final long serialVersionUID = 1L;
    private final FeatureSpec spec;
    private transient FeaturePlan plan;
    private transient RowCoder events;

    StateCoder(FeatureSpec spec) {
      this.spec = checkNotNull(spec, "a spec is needed");
    }

    private void init() {
      if (plan == null) {
        plan = new FeaturePlan(spec);
        events = RowCoder.of(spec.eventSchema());
      }
    }

    @Override
    public void encode(EntityState state, OutputStream out) throws IOException {
      init();
      state.checkWhole();
      state.writeFrame(new DataOutputStream(out), (event, day, data) -> events.encode(event, data));
    }

    @Override
    public EntityState decode(InputStream in) throws IOException {
      init();
      return readFrame(plan, new DataInputStream(in),
          (day, data) -> plan.compact(events.decode(data)));
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      throw new NonDeterministicException(this, "a tile's distinct values keep a hash set's order");
    }
  }
}
