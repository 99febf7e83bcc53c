package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * One record as a source read it, before validation: its raw payload (the CSV line, the JSON line,
 * or a JSON rendering of a Parquet record), where it came from, and its fields as text. A record
 * the source could not split into fields carries a {@link #formatError()} instead.
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

  public static RawRecord of(String source, String payload, Map<String, String> fields) {
    return new AutoValue_RawRecord(source, payload, Collections.unmodifiableMap(fields), null);
  }

  public static RawRecord malformed(String source, String payload, String error) {
    return new AutoValue_RawRecord(source, payload, Collections.emptyMap(), error);
  }

  /** A compact coder; the fields map keeps its explicit nulls (not its order: nothing reads it in order). */
  public static final class RawRecordCoder extends AtomicCoder<RawRecord> {
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();
    private static final NullableCoder<String> NULLABLE = NullableCoder.of(STRING);
    private static final MapCoder<String, String> FIELDS = MapCoder.of(STRING, NULLABLE);

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(RawRecord.class), of());
    }

    public static RawRecordCoder of() {
      return new RawRecordCoder();
    }

    @Override
    public void encode(RawRecord value, OutputStream out) throws IOException {
      STRING.encode(value.source(), out);
      STRING.encode(value.payload(), out);
      boolean malformed = value.formatError() != null;
      BooleanCoder.of().encode(malformed, out);
      if (malformed) {
        STRING.encode(value.formatError(), out);
      } else {
        FIELDS.encode(value.fields(), out);
      }
    }

    @Override
    public RawRecord decode(InputStream in) throws IOException {
      String source = STRING.decode(in);
      String payload = STRING.decode(in);
      if (BooleanCoder.of().decode(in)) {
        return malformed(source, payload, STRING.decode(in));
      }
      return RawRecord.of(source, payload, new LinkedHashMap<>(FIELDS.decode(in)));
    }
  }
}
