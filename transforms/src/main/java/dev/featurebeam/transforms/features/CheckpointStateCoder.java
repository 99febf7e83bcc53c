package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkNotNull;

import dev.featurebeam.spec.FeatureSpec;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * {@link EntityState}'s coder for a stream's checkpoints: the same state as {@link
 * EntityState#coder}, with the held events in a compact form, because a stream's checkpoints
 * encode every state every interval (and Flink's heap backend encodes and decodes a state again
 * when it is changed while a checkpoint is being written), where Beam's row coder spent most of
 * the time on strings that every event of the entity repeats.
 *
 * <p>Per event: a null bit per field, then each present field by its type; a string of a field
 * whose values repeat ({@link FeaturePlan#compact}) as its index among the strings this state
 * wrote before (0 and the text when new), so that it is written and decoded once a state;
 * the event time as the difference to the previous event's. Not for bytes that outlive the stream:
 * the online store's bytes use {@link EntityState#coder} and {@link StateParts}.
 */
final class CheckpointStateCoder extends CustomCoder<EntityState> {
  private static final long serialVersionUID = 1L;
  private final FeatureSpec spec;
  private transient FeaturePlan plan;
  private transient Schema schema;
  /** Per field: its type, and whether its strings repeat. */
  private transient Schema.TypeName[] types;
  private transient boolean[] repeated;

  CheckpointStateCoder(FeatureSpec spec) {
    this.spec = checkNotNull(spec, "a spec is needed");
  }

  private void init() {
    if (plan == null) {
      plan = new FeaturePlan(spec);
      schema = spec.eventSchema();
      types = new Schema.TypeName[schema.getFieldCount()];
      repeated = new boolean[types.length];
      for (int i = 0; i < types.length; i++) {
        types[i] = schema.getField(i).getType().getTypeName();
      }
      for (int i : plan.shared()) {
        repeated[i] = true;
      }
    }
  }

  @Override
  public void encode(EntityState state, OutputStream out) throws IOException {
    init();
    Map<String, Integer> strings = new HashMap<>();
    long[] previous = {Long.MIN_VALUE, 0}; // the day, the time the next event's is written against
    state.writeFrame(new DataOutputStream(out), (event, day, data) -> {
      if (previous[0] != day) {
        previous[0] = day;
        previous[1] = day * FeaturePlan.DAY;
      }
      previous[1] = writeEvent(event, previous[1], strings, data);
    });
  }

  /** Writes one event; returns its time, which the next one's is written against. */
  private long writeEvent(Row event, long previous, Map<String, Integer> strings,
      DataOutputStream data) throws IOException {
    byte[] nulls = new byte[(types.length + 7) / 8];
    for (int i = 0; i < types.length; i++) {
      if (event.getValue(i) == null) {
        nulls[i / 8] |= (byte) (1 << (i % 8));
      }
    }
    data.write(nulls);
    long time = previous;
    for (int i = 0; i < types.length; i++) {
      Object v = event.getValue(i);
      if (v == null) {
        continue;
      }
      switch (types[i]) {
        case STRING:
          String s = (String) v;
          if (repeated[i]) {
            Integer index = strings.get(s);
            if (index != null) {
              VarInt.encode(index, data);
              break;
            }
            strings.put(s, strings.size() + 1);
            VarInt.encode(0, data);
          }
          byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
          VarInt.encode(utf8.length, data);
          data.write(utf8);
          break;
        case INT64:
          VarInt.encode(zigZag((Long) v), data);
          break;
        case DOUBLE:
          data.writeDouble((Double) v);
          break;
        case BOOLEAN:
          data.writeBoolean((Boolean) v);
          break;
        case DATETIME:
          long ms = ((org.joda.time.ReadableInstant) v).getMillis();
          if (i == plan.timestampIndex) {
            VarInt.encode(zigZag(ms - previous), data);
            time = ms;
          } else {
            VarInt.encode(zigZag(ms), data);
          }
          break;
        default:
          throw new IOException("an event field of type " + types[i] + " is not supported");
      }
    }
    return time;
  }

  @Override
  public EntityState decode(InputStream in) throws IOException {
    init();
    List<String> strings = new ArrayList<>();
    long[] previous = {Long.MIN_VALUE, 0};
    return EntityState.readFrame(plan, new DataInputStream(in), (day, data) -> {
      if (previous[0] != day) {
        previous[0] = day;
        previous[1] = day * FeaturePlan.DAY;
      }
      Row event = readEvent(data, previous[1], strings);
      Object time = event.getValue(plan.timestampIndex);
      if (time != null) {
        previous[1] = ((org.joda.time.ReadableInstant) time).getMillis();
      }
      return event;
    });
  }

  private Row readEvent(DataInputStream data, long previous, List<String> strings)
      throws IOException {
    byte[] nulls = new byte[(types.length + 7) / 8];
    data.readFully(nulls);
    Object[] values = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      if ((nulls[i / 8] & (1 << (i % 8))) != 0) {
        continue;
      }
      switch (types[i]) {
        case STRING:
          if (repeated[i]) {
            int index = VarInt.decodeInt(data);
            if (index > 0) {
              values[i] = strings.get(index - 1);
              break;
            }
            String s = FeaturePlan.shareValue(readUtf8(data));
            strings.add(s);
            values[i] = s;
          } else {
            values[i] = readUtf8(data);
          }
          break;
        case INT64:
          values[i] = unZigZag(VarInt.decodeLong(data));
          break;
        case DOUBLE:
          values[i] = data.readDouble();
          break;
        case BOOLEAN:
          values[i] = data.readBoolean();
          break;
        case DATETIME:
          long ms = unZigZag(VarInt.decodeLong(data));
          values[i] = new Instant(i == plan.timestampIndex ? previous + ms : ms);
          break;
        default:
          throw new IOException("an event field of type " + types[i] + " is not supported");
      }
    }
    return Row.withSchema(schema).attachValues(Arrays.asList(values));
  }

  private static String readUtf8(DataInputStream data) throws IOException {
    byte[] utf8 = new byte[VarInt.decodeInt(data)];
    data.readFully(utf8);
    return new String(utf8, StandardCharsets.UTF_8);
  }

  private static long zigZag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  private static long unZigZag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  @Override
  public void verifyDeterministic() throws NonDeterministicException {
    throw new NonDeterministicException(this, "a tile's distinct values keep a hash set's order");
  }
}
