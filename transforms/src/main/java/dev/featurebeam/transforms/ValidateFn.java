package dev.featurebeam.transforms;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.ValueParser;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * {@link ValidateRecords}' step: a raw record in; its event row, encoded and at its event time, or
 * its quarantine record out. Each record's validation runs inside a catch: what it throws
 * quarantines that record as {@code ERROR:validate}.
 */
class ValidateFn extends DoFn<RawRecord, Encoded<Row>> {
  private final FeatureSpec spec;
  private final RowCoder rowCoder;
  private final FaultForTests fault;
  /** Counted per bundle: a metrics lookup per record costs more than validating it. */
  private final BundleCounter read = BundleCounter.of(Counters.READ);

  private final BundleCounter blank = BundleCounter.of(Counters.BLANK);
  private transient Schema schema;
  private transient ZoneId zone;
  private transient int timestampIndex;

  ValidateFn(FeatureSpec spec, RowCoder rowCoder, FaultForTests fault) {
    this.spec = spec;
    this.rowCoder = rowCoder;
    this.fault = fault;
  }

  @Setup
  public void setup() {
    schema = spec.eventSchema();
    zone = ZoneId.of(spec.sourceTimezone());
    timestampIndex = spec.fieldIndex(spec.timestamp());
  }

  @FinishBundle
  public void finishBundle() {
    BundleCounter.flush(read, blank);
  }

  @ProcessElement
  public void process(@Element RawRecord raw, MultiOutputReceiver out) {
    read.inc();
    if (raw.blank()) {
      blank.inc(); // read, counted, and no event: read = valid + ... + blank
      return;
    }
    Encoded<Row> valid = null;
    Instant eventTime = null;
    QuarantineRecord rejected;
    try {
      fault.before(ValidateRecords.STEP, raw);
      Object result = validate(raw);
      if (result instanceof Row) {
        Row row = (Row) result;
        valid = Encoded.of(row, rowCoder);
        eventTime = (Instant) row.getValue(timestampIndex);
        rejected = null;
      } else {
        rejected = (QuarantineRecord) result;
      }
    } catch (RuntimeException e) {
      rejected = RecordErrors.quarantineRecord(
          ValidateRecords.STEP, e, raw.source(), raw.payload(), raw.payloadLength());
    }
    // Outside the catch: on a fused runner the outputs run the next steps, whose errors are theirs.
    if (rejected != null) {
      Counters.countQuarantined(rejected.reason());
      out.get(ValidateRecords.QUARANTINED).output(rejected);
    } else {
      out.get(ValidateRecords.VALID_ENCODED).outputWithTimestamp(valid, eventTime);
    }
  }

  /** The record's event row, or the quarantine record that says which rule it breaks. */
  private Object validate(RawRecord raw) {
    if (raw.formatError() != null) {
      return reject(raw, "MALFORMED", raw.formatError());
    }
    List<FieldSpec> fields = spec.fields();
    Set<String> nested = raw.nested();
    Object[] values = new Object[fields.size()];
    Map<String, Object> typed = raw.values();
    for (int i = 0; i < values.length; i++) {
      FieldSpec f = fields.get(i);
      Object value;
      String text;
      Object nativeValue = typed.isEmpty() ? null : typed.get(f.name());
      if (nativeValue != null) {
        // A typed source's value: no text to parse, the same rules.
        try {
          value = ValueParser.checkNative(f.type(), nativeValue);
        } catch (ValueParser.BadValueException e) {
          String kind = f.type() == FieldType.TIMESTAMP ? "BAD_TIMESTAMP:" : "BAD_TYPE:";
          return reject(raw, kind + f.name(), f.name() + ": " + e.getMessage());
        }
        text = null; // shown only should the value break a bound
      } else {
        text = raw.fields().get(f.name());
        if (!nested.isEmpty() && nested.contains(f.name())) {
          // Every declared type is a scalar; the JSON text says which kind of nesting it is.
          String kind = text != null && text.startsWith("[") ? "a JSON array" : "a JSON object";
          return reject(raw, "BAD_TYPE:" + f.name(),
              f.name() + ": " + kind + " where a " + f.type().yamlName() + " is declared");
        }
        if (text != null) {
          text = text.strip();
        }
        if (text == null || text.isEmpty()) {
          if (f.required()) {
            return reject(raw, "MISSING:" + f.name(), f.name() + " is missing or empty");
          }
          continue;
        }
        try {
          value = ValueParser.parse(f.type(), text, zone, f.timestampFormat());
        } catch (ValueParser.BadValueException e) {
          String kind = f.type() == FieldType.TIMESTAMP ? "BAD_TIMESTAMP:" : "BAD_TYPE:";
          return reject(raw, kind + f.name(), f.name() + ": " + e.getMessage());
        }
      }
      if (value instanceof Number && !inBounds(f, ((Number) value).doubleValue())) {
        if (f.type() == FieldType.TIMESTAMP) {
          // A timestamp's min/max (epoch millis) say which times are plausible, like the years.
          boolean early = f.min() != null && (Long) value < f.min();
          return reject(raw, "BAD_TIMESTAMP:" + f.name(), f.name() + ": " + shown(text, f, value) + " is "
              + (early ? "before its min " + isoMillis(f.min()) : "after its max " + isoMillis(f.max())));
        }
        return reject(raw, "OUT_OF_RANGE:" + f.name(),
            f.name() + ": " + shown(text, f, value) + " is outside [" + f.min() + ", " + f.max() + "]");
      }
      values[i] = f.type() == FieldType.TIMESTAMP ? new Instant((long) (Long) value) : value;
    }
    // Values are already of the schema's types: skip the builder's per-value verification.
    return Row.withSchema(schema).attachValues(Arrays.asList(values));
  }

  private static QuarantineRecord reject(RawRecord raw, String reason, String detail) {
    return QuarantineRecord.of(reason, detail, raw.source(), raw.payload(), raw.payloadLength());
  }

  /** The value as a message shows it: its text, or a native value's rendering. */
  private static String shown(@Nullable String text, FieldSpec f, Object value) {
    if (text != null) {
      return text;
    }
    return f.type() == FieldType.TIMESTAMP ? isoMillis((Long) value) : value.toString();
  }

  private static String isoMillis(double millis) {
    return java.time.Instant.ofEpochMilli((long) millis).toString();
  }

  private static boolean inBounds(FieldSpec f, double v) {
    return (f.min() == null || v >= f.min()) && (f.max() == null || v <= f.max());
  }

  /**
   * Sources stamp records with read or log time; event time comes from the payload and may be
   * earlier. Moving it back is the point of this step: a record that lands behind the watermark
   * is late, and the windowed steps downstream treat it so.
   */
  @SuppressWarnings("deprecation")
  @Override
  public Duration getAllowedTimestampSkew() {
    return Duration.millis(Long.MAX_VALUE);
  }
}
