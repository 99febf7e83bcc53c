package dev.featurebeam.transforms;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.ValueParser;
import java.time.ZoneId;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Parses raw records into canonical event rows per the spec's source schema, timestamped with
 * their event time. A record that breaks a rule is quarantined with its reason code and its
 * raw payload: {@code MALFORMED}, {@code MISSING:f}, {@code BAD_TYPE:f}, {@code OUT_OF_RANGE:f},
 * {@code BAD_TIMESTAMP:f}. Strings are stripped of surrounding white space here, so that "  " is
 * missing like "". A {@link RawRecord#blank blank} line counts as read and as blank ({@link
 * Counters}) and gives nothing else.
 */
public class ValidateRecords extends PTransform<PCollection<RawRecord>, PCollectionTuple> {
  public static final TupleTag<Row> VALID = new TupleTag<Row>() {};
  public static final TupleTag<QuarantineRecord> QUARANTINED = new TupleTag<QuarantineRecord>() {};

  private final FeatureSpec spec;

  private ValidateRecords(FeatureSpec spec) {
    this.spec = spec;
  }

  public static ValidateRecords of(FeatureSpec spec) {
    return new ValidateRecords(spec);
  }

  /** Valid rows as they leave the validating step, encoded (see {@link #expand}). */
  private static final TupleTag<Encoded<Row>> VALID_ENCODED = new TupleTag<Encoded<Row>>() {};

  @Override
  public PCollectionTuple expand(PCollection<RawRecord> input) {
    RowCoder rowCoder = RowCoder.of(spec.eventSchema());
    // Valid rows leave the step encoded, and are decoded by the next: Flink's batch runner sends
    // every output of a multi-output step to the readers of each output, so rows went to the
    // quarantine's reader too, encoded once per reader and decoded there only to be dropped.
    PCollectionTuple out =
        input.apply(
            "ParseAndValidate",
            ParDo.of(new ValidateFn(spec, rowCoder))
                .withOutputTags(VALID_ENCODED, TupleTagList.of(QUARANTINED)));
    PCollection<Row> valid =
        out.get(VALID_ENCODED)
            .setCoder(Encoded.coder(rowCoder))
            .apply("DecodeValid", ParDo.of(new DecodeFn()))
            .setCoder(rowCoder);
    return PCollectionTuple.of(VALID, valid).and(QUARANTINED, out.get(QUARANTINED));
  }

  static class DecodeFn extends DoFn<Encoded<Row>, Row> {
    @ProcessElement
    public void process(@Element Encoded<Row> row, OutputReceiver<Row> out) {
      out.output(row.get());
    }
  }

  static class ValidateFn extends DoFn<RawRecord, Encoded<Row>> {
    private static final Counter READ = Counters.counter(Counters.READ);
    private static final Counter BLANK = Counters.counter(Counters.BLANK);
    private static final Counter QUARANTINED_COUNT = Counters.counter(Counters.QUARANTINED);
    private final FeatureSpec spec;
    private final RowCoder rowCoder;
    private transient Schema schema;
    private transient ZoneId zone;
    private transient int timestampIndex;

    ValidateFn(FeatureSpec spec, RowCoder rowCoder) {
      this.spec = spec;
      this.rowCoder = rowCoder;
    }

    @Setup
    public void setup() {
      schema = spec.eventSchema();
      zone = ZoneId.of(spec.sourceTimezone());
      timestampIndex = spec.fieldIndex(spec.timestamp());
    }

    /** Counted per bundle: a metrics lookup per record costs more than validating it. */
    private transient long read;

    private transient long blank;

    @StartBundle
    public void startBundle() {
      read = 0;
      blank = 0;
    }

    @FinishBundle
    public void finishBundle() {
      READ.inc(read);
      BLANK.inc(blank);
    }

    @ProcessElement
    public void process(@Element RawRecord raw, MultiOutputReceiver out) {
      read++;
      if (raw.blank()) {
        blank++; // read, counted, and no event: read = valid + ... + blank
        return;
      }
      if (raw.formatError() != null) {
        quarantine(out, raw, "MALFORMED", raw.formatError());
        return;
      }
      List<FieldSpec> fields = spec.fields();
      Set<String> nested = raw.nested();
      Object[] values = new Object[fields.size()];
      for (int i = 0; i < values.length; i++) {
        FieldSpec f = fields.get(i);
        String text = raw.fields().get(f.name());
        if (!nested.isEmpty() && nested.contains(f.name())) {
          // Every declared type is a scalar; the JSON text says which kind of nesting it is.
          String kind = text != null && text.startsWith("[") ? "a JSON array" : "a JSON object";
          quarantine(out, raw, "BAD_TYPE:" + f.name(),
              f.name() + ": " + kind + " where a " + f.type().yamlName() + " is declared");
          return;
        }
        if (text != null) {
          text = text.strip();
        }
        if (text == null || text.isEmpty()) {
          if (f.required()) {
            quarantine(out, raw, "MISSING:" + f.name(), f.name() + " is missing or empty");
            return;
          }
          continue;
        }
        Object value;
        try {
          value = ValueParser.parse(f.type(), text, zone, f.timestampFormat());
        } catch (ValueParser.BadValueException e) {
          String kind = f.type() == FieldType.TIMESTAMP ? "BAD_TIMESTAMP:" : "BAD_TYPE:";
          quarantine(out, raw, kind + f.name(), f.name() + ": " + e.getMessage());
          return;
        }
        if (value instanceof Number && !inBounds(f, ((Number) value).doubleValue())) {
          if (f.type() == FieldType.TIMESTAMP) {
            // A timestamp's min/max (epoch millis) say which times are plausible, like the years.
            boolean early = f.min() != null && (Long) value < f.min();
            quarantine(out, raw, "BAD_TIMESTAMP:" + f.name(), f.name() + ": " + text + " is "
                + (early ? "before its min " + isoMillis(f.min()) : "after its max " + isoMillis(f.max())));
          } else {
            quarantine(out, raw, "OUT_OF_RANGE:" + f.name(),
                f.name() + ": " + text + " is outside [" + f.min() + ", " + f.max() + "]");
          }
          return;
        }
        values[i] = f.type() == FieldType.TIMESTAMP ? new Instant((long) (Long) value) : value;
      }
      Instant eventTime = (Instant) values[timestampIndex];
      // Values are already of the schema's types: skip the builder's per-value verification.
      Row row = Row.withSchema(schema).attachValues(java.util.Arrays.asList(values));
      out.get(VALID_ENCODED).outputWithTimestamp(Encoded.of(row, rowCoder), eventTime);
    }

    private static String isoMillis(double millis) {
      return java.time.Instant.ofEpochMilli((long) millis).toString();
    }

    private static boolean inBounds(FieldSpec f, double v) {
      return (f.min() == null || v >= f.min()) && (f.max() == null || v <= f.max());
    }

    private static void quarantine(MultiOutputReceiver out, RawRecord raw, String reason, String detail) {
      QUARANTINED_COUNT.inc();
      Counters.quarantine(reason).inc();
      out.get(QUARANTINED).output(QuarantineRecord.of(
          reason, detail, raw.source(), raw.payload(), raw.payloadLength()));
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
}
