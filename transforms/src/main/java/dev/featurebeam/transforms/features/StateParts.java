package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.featurebeam.spec.FeatureSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.Row;

/**
 * An {@link EntityState} in the parts an online store keeps apart, so that a write costs what
 * changed and a lookup reads what its instant needs: the tiles (the latest event, the count, the
 * digest, the first kept day, the folded tile and each kept day's tile; small, rewritten whole)
 * and, per kept day, that day's events. A day's events are each written as a length and the
 * event's {@link RowCoder} bytes, so the encoding of a list followed by the encoding of more
 * events is the encoding of the longer list: a store can append a day's new events to what it
 * holds.
 *
 * <p>Thread-safe once built (its coders are).
 */
public final class StateParts {
  private final FeaturePlan plan;
  private final RowCoder events;

  private StateParts(FeatureSpec spec) {
    this.plan = new FeaturePlan(spec);
    this.events = RowCoder.of(spec.eventSchema());
  }

  /** The parts of {@code spec}'s entity states. */
  public static StateParts of(FeatureSpec spec) {
    checkNotNull(spec, "a spec is needed");
    return new StateParts(spec);
  }

  /** An empty state, sharing this instance's plan (cheaper than {@link EntityState#of}). */
  public EntityState empty() {
    return new EntityState(plan);
  }

  /** Everything of {@code state} but its events; a tile's distinct values keep a set's order. */
  public byte[] tiles(EntityState state) {
    checkNotNull(state, "a state is needed");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    DataOutputStream data = new DataOutputStream(bytes);
    try {
      state.writeHeader(data);
      VarInt.encode(state.tiles.size(), data);
      for (Tile tile : state.tiles.values()) {
        TileCoder.writeTile(tile, data);
      }
      data.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /** {@code events} (of one day), each as its length and its bytes. */
  public byte[] events(List<Row> events) {
    checkNotNull(events, "events are needed");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * events.size() + 16);
    ByteArrayOutputStream one = new ByteArrayOutputStream(128);
    try {
      for (Row event : events) {
        one.reset();
        this.events.encode(event, one);
        VarInt.encode(one.size(), bytes);
        one.writeTo(bytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * The state of {@code tiles} with the events of the days in {@code dayEvents} (absent or null
   * bytes: a day without events held). A kept day not in {@code dayEvents} is unread: the state
   * then answers only instants whose window edges miss it ({@link EntityState#featuresAt} checks)
   * and cannot change. Passing every kept day gives the whole state.
   *
   * @throws IOException when the bytes are not parts of this spec's states
   */
  public EntityState assemble(byte[] tiles, Map<Long, byte[]> dayEvents) throws IOException {
    checkNotNull(tiles, "tiles are needed");
    checkNotNull(dayEvents, "the days' events are needed");
    EntityState state = new EntityState(plan);
    DataInputStream data = new DataInputStream(new ByteArrayInputStream(tiles));
    state.readHeader(data);
    int days = VarInt.decodeInt(data);
    for (int d = 0; d < days; d++) {
      Tile tile = TileCoder.readTile(data);
      state.tiles.put(tile.day, tile);
      if (dayEvents.containsKey(tile.day)) {
        state.events.put(tile.day, decodeEvents(dayEvents.get(tile.day)));
      } else {
        state.unread.add(tile.day);
        state.events.put(tile.day, new ArrayList<>());
      }
    }
    checkArgument(data.read() < 0, "the tiles have bytes left over");
    return state;
  }

  private List<Row> decodeEvents(byte[] bytes) throws IOException {
    List<Row> out = new ArrayList<>();
    if (bytes == null) {
      return out;
    }
    ByteArrayInputStream in = new ByteArrayInputStream(bytes);
    while (in.available() > 0) {
      int length = VarInt.decodeInt(in);
      byte[] one = in.readNBytes(length);
      if (one.length != length) {
        throw new IOException("a day's events end inside an event");
      }
      out.add(events.decode(new ByteArrayInputStream(one)));
    }
    return out;
  }

  /**
   * The days whose events a lookup at {@code instantMillis} reads (those its window edges fall
   * in), ascending; the tiles answer for every other day.
   */
  public long[] daysReadAt(long instantMillis) {
    TreeSet<Long> days = new TreeSet<>();
    InstantWalk.edgeDays(plan, instantMillis, days::add);
    long[] out = new long[days.size()];
    int i = 0;
    for (long d : days) {
      out[i++] = d;
    }
    return out;
  }
}
