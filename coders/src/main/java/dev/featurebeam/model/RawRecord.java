package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.ByteCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * One record as a source read it, before validation: its raw payload (the CSV line, the JSON line,
 * or a JSON rendering of a Parquet record), where it came from, and its fields as text. A record
 * the source could not split into fields carries a {@link #formatError()} instead; a blank line is
 * a {@link #blank} record, so that every line of the input is accounted for.
 */
@AutoValue
@DefaultCoder(RawRecord.RawRecordCoder.class)
public abstract class RawRecord {
  /** Where the record came from, e.g. the file path and line number. */
  public abstract String source();

  /** The record exactly as read, kept for the quarantine. */
  public abstract String payload();

  /** Field name to text value; a null value is an explicit null (JSON null). Empty on error. */
  public abstract Map<String, String> fields();

  /** Why the source could not read the record (e.g. "CSV line has 3 columns, header has 4"). */
  public abstract @Nullable String formatError();

  /**
   * The fields whose value is nested (a JSON object or array, a Parquet record, list or map)
   * rather than a scalar; {@link #fields()} holds their JSON text. No declared type takes one.
   */
  public abstract Set<String> nested();

  /** Whether this is a blank (white-space only) line: no fields, nothing to validate. */
  public abstract boolean blank();

  /**
   * For a malformed record too long to keep whole, the whole record's length in characters, of
   * which {@link #payload()} holds the start; -1 when the payload is the whole record.
   */
  public abstract long payloadLength();

  /**
   * Values a typed source (a database column of a native type) read as the declared type's value
   * already, by field name: a {@link Long} (an integer, or a timestamp's epoch milliseconds), a
   * {@link Double} or a {@link Boolean}. Validation takes them without parsing text; a field here
   * is not in {@link #fields()}. Empty for every other record.
   */
  public abstract Map<String, Object> values();

  public static RawRecord of(String source, String payload, Map<String, String> fields) {
    return of(source, payload, fields, Collections.emptySet());
  }

  public static RawRecord of(
      String source, String payload, Map<String, String> fields, Set<String> nested) {
    return new AutoValue_RawRecord(source, payload, Collections.unmodifiableMap(fields), null,
        nested.isEmpty() ? Collections.emptySet() : Collections.unmodifiableSet(nested), false,
        -1, Collections.emptyMap());
  }

  /**
   * A record of a typed source: {@code fields} as text, {@code values} already typed (see {@link
   * #values()}); a name is in one of them, not both.
   */
  public static RawRecord typed(
      String source, String payload, Map<String, String> fields, Map<String, Object> values) {
    for (Map.Entry<String, Object> v : values.entrySet()) {
      Object x = v.getValue();
      if (!(x instanceof Long || x instanceof Double || x instanceof Boolean)) {
        throw new IllegalArgumentException(v.getKey() + ": not a Long, Double or Boolean: " + x);
      }
      if (fields.containsKey(v.getKey())) {
        throw new IllegalArgumentException(v.getKey() + " is both text and a typed value");
      }
    }
    return new AutoValue_RawRecord(source, payload, Collections.unmodifiableMap(fields), null,
        Collections.emptySet(), false, -1, Collections.unmodifiableMap(values));
  }

  public static RawRecord malformed(String source, String payload, String error) {
    return malformed(source, payload, error, -1);
  }

  /** A record too long to keep: {@code payload} is its start, {@code wholeLength} its length. */
  public static RawRecord malformed(
      String source, String payload, String error, long wholeLength) {
    return new AutoValue_RawRecord(
        source, payload, Collections.emptyMap(), error, Collections.emptySet(), false,
        wholeLength, Collections.emptyMap());
  }

  /** A blank line at {@code source}; its payload is empty. */
  public static RawRecord blank(String source) {
    return new AutoValue_RawRecord(
        source, "", Collections.emptyMap(), null, Collections.emptySet(), true, -1,
        Collections.emptyMap());
  }

  /**
   * A compact coder: the source, a kind byte (fields, malformed, blank, typed), then what the kind
   * has; a typed record is a fields record followed by its values, each a name, a type byte and
   * the value.
   * The fields (with their explicit nulls) and the nested names are written in their iteration
   * order and read back in it, so a decoded record encodes to the same bytes.
   *
   * <p>Not deterministic: equal records whose fields came in another order encode differently.
   */
  public static final class RawRecordCoder extends AtomicCoder<RawRecord> {
    private static final RawRecordCoder INSTANCE = new RawRecordCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();
    private static final NullableCoder<String> NULLABLE = NullableCoder.of(STRING);
    private static final byte FIELDS_KIND = 0;
    private static final byte MALFORMED_KIND = 1;
    private static final byte BLANK_KIND = 2;
    private static final byte TYPED_KIND = 3;
    private static final byte LONG = 'L';
    private static final byte DOUBLE = 'D';
    private static final byte BOOLEAN = 'B';

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(RawRecord.class), of());
    }

    public static RawRecordCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(RawRecord value, OutputStream out) throws IOException {
      STRING.encode(value.source(), out);
      if (value.blank()) {
        ByteCoder.of().encode(BLANK_KIND, out);
      } else if (value.formatError() != null) {
        ByteCoder.of().encode(MALFORMED_KIND, out);
        STRING.encode(value.payload(), out);
        STRING.encode(value.formatError(), out);
        VarLongCoder.of().encode(value.payloadLength() + 1, out);
      } else {
        ByteCoder.of().encode(value.values().isEmpty() ? FIELDS_KIND : TYPED_KIND, out);
        STRING.encode(value.payload(), out);
        // MapCoder's layout (a four-byte size, then each name and value), in the map's order.
        new DataOutputStream(out).writeInt(value.fields().size());
        for (Map.Entry<String, String> field : value.fields().entrySet()) {
          STRING.encode(field.getKey(), out);
          NULLABLE.encode(field.getValue(), out);
        }
        VarIntCoder.of().encode(value.nested().size(), out);
        for (String name : value.nested()) {
          STRING.encode(name, out);
        }
        if (!value.values().isEmpty()) {
          DataOutputStream data = new DataOutputStream(out);
          data.writeInt(value.values().size());
          for (Map.Entry<String, Object> v : value.values().entrySet()) {
            data.writeUTF(v.getKey());
            Object x = v.getValue();
            if (x instanceof Long) {
              data.writeByte(LONG);
              data.writeLong((Long) x);
            } else if (x instanceof Double) {
              data.writeByte(DOUBLE);
              data.writeDouble((Double) x);
            } else {
              data.writeByte(BOOLEAN);
              data.writeBoolean((Boolean) x);
            }
          }
          data.flush();
        }
      }
    }

    @Override
    public RawRecord decode(InputStream in) throws IOException {
      String source = STRING.decode(in);
      byte kind = ByteCoder.of().decode(in);
      switch (kind) {
        case BLANK_KIND:
          return blank(source);
        case MALFORMED_KIND:
          return malformed(source, STRING.decode(in), STRING.decode(in),
              VarLongCoder.of().decode(in) - 1);
        case FIELDS_KIND:
        case TYPED_KIND:
          String payload = STRING.decode(in);
          int size = new DataInputStream(in).readInt();
          if (size < 0) {
            throw new CoderException("a RawRecord with " + size + " fields");
          }
          Map<String, String> fields = new LinkedHashMap<>();
          for (int i = 0; i < size; i++) {
            fields.put(STRING.decode(in), NULLABLE.decode(in));
          }
          int n = VarIntCoder.of().decode(in);
          Set<String> nested = new LinkedHashSet<>();
          for (int i = 0; i < n; i++) {
            nested.add(STRING.decode(in));
          }
          if (kind == FIELDS_KIND) {
            return RawRecord.of(source, payload, fields, nested);
          }
          DataInputStream data = new DataInputStream(in);
          int typed = data.readInt();
          Map<String, Object> values = new LinkedHashMap<>();
          for (int i = 0; i < typed; i++) {
            String name = data.readUTF();
            byte type = data.readByte();
            switch (type) {
              case LONG:
                values.put(name, data.readLong());
                break;
              case DOUBLE:
                values.put(name, data.readDouble());
                break;
              case BOOLEAN:
                values.put(name, data.readBoolean());
                break;
              default:
                throw new CoderException("not a typed value's type: " + type);
            }
          }
          return typed(source, payload, fields, values);
        default:
          throw new CoderException("not a RawRecord kind: " + kind);
      }
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      throw new NonDeterministicException(this,
          "a record's fields and nested names are encoded in their iteration order, which equal"
              + " records need not share");
    }
  }
}
