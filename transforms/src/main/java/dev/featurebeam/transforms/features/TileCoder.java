package dev.featurebeam.transforms.features;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * Compact binary coders for tiles and per-entity histories. Every tile crosses a shuffle and sits
 * in per-key state, so these write only the aggregates that are set, without Java
 * serialization's class descriptors and field names per object.
 *
 * <p>Not deterministic, and they say so ({@link #verifyDeterministic}): a distinct set is written
 * in its hash set's order, which equal sets built another way need not share. Tiles are never
 * keys.
 */
public final class TileCoder extends AtomicCoder<Tile> {
  private static final TileCoder INSTANCE = new TileCoder();

  private static final int COUNT = 1;
  private static final int SUM = 2;
  private static final int EXTREME = 4;
  private static final int DISTINCT = 8;
  private static final int LAST_TS = 16;
  private static final int LAST_TIE = 32;
  private static final int LAST_VALUE = 64;

  private static final String DISTINCT_ORDER = "a tile's distinct values are encoded in their"
      + " hash set's order, which equal sets need not share";

  private static final byte NULL = 0;
  private static final byte STRING = 1;
  private static final byte LONG = 2;
  private static final byte DOUBLE = 3;
  private static final byte BOOLEAN = 4;

  public static TileCoder of() {
    return INSTANCE;
  }

  @Override
  public void encode(Tile tile, OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    writeTile(tile, data);
    data.flush();
  }

  @Override
  public Tile decode(InputStream in) throws IOException {
    return readTile(new DataInputStream(in));
  }

  @Override
  public void verifyDeterministic() throws NonDeterministicException {
    throw new NonDeterministicException(this, DISTINCT_ORDER);
  }

  static void writeTile(Tile tile, DataOutputStream out) throws IOException {
    out.writeLong(tile.day);
    out.writeLong(tile.minTs);
    out.writeLong(tile.maxTs);
    VarInt.encode(tile.full.length, out);
    for (int i = 0; i < tile.full.length; i++) {
      writeAgg(tile.full[i], out);
      out.writeBoolean(tile.tail[i] != null);
      if (tile.tail[i] != null) {
        writeAgg(tile.tail[i], out);
      }
    }
  }

  static Tile readTile(DataInputStream in) throws IOException {
    long day = in.readLong();
    long minTs = in.readLong();
    long maxTs = in.readLong();
    int n = VarInt.decodeInt(in);
    Tile tile = new Tile(n);
    tile.day = day;
    tile.minTs = minTs;
    tile.maxTs = maxTs;
    for (int i = 0; i < n; i++) {
      tile.full[i] = readAgg(in);
      if (in.readBoolean()) {
        tile.tail[i] = readAgg(in);
      }
    }
    return tile;
  }

  private static void writeAgg(Agg a, DataOutputStream out) throws IOException {
    int flags = (a.count != 0 ? COUNT : 0)
        | (a.sum != null ? SUM : 0)
        | (a.extreme != null ? EXTREME : 0)
        | (a.distinct != null ? DISTINCT : 0)
        | (a.lastTs != Long.MIN_VALUE ? LAST_TS : 0)
        | (a.lastTie != null ? LAST_TIE : 0)
        | (a.lastValue != null ? LAST_VALUE : 0);
    out.writeByte(flags);
    if ((flags & COUNT) != 0) {
      VarInt.encode(a.count, out);
    }
    if ((flags & SUM) != 0) {
      // The partials, or -1 and the BigDecimal of a sum past the partials' range.
      if (a.sum.big == null) {
        VarInt.encode(a.sum.size, out);
        for (int i = 0; i < a.sum.size; i++) {
          out.writeDouble(a.sum.partials[i]);
        }
      } else {
        VarInt.encode(-1, out);
        byte[] unscaled = a.sum.big.unscaledValue().toByteArray();
        VarInt.encode(a.sum.big.scale(), out);
        VarInt.encode(unscaled.length, out);
        out.write(unscaled);
      }
    }
    if ((flags & EXTREME) != 0) {
      writeValue(a.extreme, out);
    }
    if ((flags & DISTINCT) != 0) {
      VarInt.encode(a.distinct.size(), out);
      for (Object v : a.distinct) {
        writeValue(v, out);
      }
    }
    if ((flags & LAST_TS) != 0) {
      out.writeLong(a.lastTs);
    }
    if ((flags & LAST_TIE) != 0) {
      writeString(a.lastTie, out);
    }
    if ((flags & LAST_VALUE) != 0) {
      writeValue(a.lastValue, out);
    }
  }

  private static Agg readAgg(DataInputStream in) throws IOException {
    int flags = in.readUnsignedByte();
    Agg a = new Agg();
    if ((flags & COUNT) != 0) {
      a.count = VarInt.decodeLong(in);
    }
    if ((flags & SUM) != 0) {
      int partials = VarInt.decodeInt(in);
      if (partials >= 0) {
        double[] values = new double[Math.max(partials, 4)];
        for (int i = 0; i < partials; i++) {
          values[i] = in.readDouble();
        }
        a.sum = new ExactSum(values, partials, null);
      } else {
        int scale = VarInt.decodeInt(in);
        byte[] unscaled = new byte[VarInt.decodeInt(in)];
        in.readFully(unscaled);
        a.sum = new ExactSum(new double[4], 0, new BigDecimal(new BigInteger(unscaled), scale));
      }
    }
    if ((flags & EXTREME) != 0) {
      a.extreme = readValue(in);
    }
    if ((flags & DISTINCT) != 0) {
      int n = VarInt.decodeInt(in);
      a.distinct = new HashSet<>(Math.max(4, n * 2));
      for (int i = 0; i < n; i++) {
        a.distinct.add(readValue(in));
      }
    }
    if ((flags & LAST_TS) != 0) {
      a.lastTs = in.readLong();
    }
    if ((flags & LAST_TIE) != 0) {
      a.lastTie = readString(in);
    }
    if ((flags & LAST_VALUE) != 0) {
      a.lastValue = readValue(in);
    }
    return a;
  }

  private static void writeValue(Object v, DataOutputStream out) throws IOException {
    if (v == null) {
      out.writeByte(NULL);
    } else if (v instanceof String) {
      out.writeByte(STRING);
      writeString((String) v, out);
    } else if (v instanceof Long) {
      out.writeByte(LONG);
      out.writeLong((Long) v);
    } else if (v instanceof Double) {
      out.writeByte(DOUBLE);
      out.writeDouble((Double) v);
    } else if (v instanceof Boolean) {
      out.writeByte(BOOLEAN);
      out.writeBoolean((Boolean) v);
    } else {
      throw new CoderException("cannot encode a " + v.getClass() + " in a tile");
    }
  }

  // Length-prefixed UTF-8: DataOutput.writeUTF stops at 64 KB.
  private static void writeString(String s, DataOutputStream out) throws IOException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    VarInt.encode(bytes.length, out);
    out.write(bytes);
  }

  private static String readString(DataInputStream in) throws IOException {
    byte[] bytes = new byte[VarInt.decodeInt(in)];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static Object readValue(DataInputStream in) throws IOException {
    byte tag = in.readByte();
    switch (tag) {
      case NULL:
        return null;
      case STRING:
        return readString(in);
      case LONG:
        return in.readLong();
      case DOUBLE:
        return in.readDouble();
      case BOOLEAN:
        return in.readBoolean();
      default:
        throw new CoderException("bad value tag " + tag + " in a tile");
    }
  }

  /** Coder of {@link EntityHistory}: its tiles in day order, then the folded tile. */
  public static final class HistoryCoder extends AtomicCoder<EntityHistory> {
    private static final HistoryCoder HISTORY = new HistoryCoder();

    public static HistoryCoder of() {
      return HISTORY;
    }

    @Override
    public void encode(EntityHistory h, OutputStream out) throws IOException {
      DataOutputStream data = new DataOutputStream(out);
      data.writeLong(h.foldedBefore);
      VarInt.encode(h.tiles.size(), data);
      for (Map.Entry<Long, Tile> e : h.tiles.entrySet()) {
        writeTile(e.getValue(), data);
      }
      data.writeBoolean(h.folded != null);
      if (h.folded != null) {
        writeTile(h.folded, data);
      }
      data.flush();
    }

    @Override
    public EntityHistory decode(InputStream in) throws IOException {
      DataInputStream data = new DataInputStream(in);
      EntityHistory h = new EntityHistory();
      h.foldedBefore = data.readLong();
      int n = VarInt.decodeInt(data);
      for (int i = 0; i < n; i++) {
        Tile t = readTile(data);
        h.tiles.put(t.day, t);
      }
      if (data.readBoolean()) {
        h.folded = readTile(data);
      }
      return h;
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      throw new NonDeterministicException(this, DISTINCT_ORDER);
    }
  }
}
