package dev.featurebeam.transforms;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.SpecParser;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * {@link CleanEvents}' step: an event in; the cleaned event, encoded, or a quarantine record out.
 * An event whose cleaning throws is quarantined as {@code ERROR:clean}. Events no longer carry
 * their raw record after validation, so its payload is the event as validation read it ({@link
 * EventRows#canonical}) and its source is empty.
 */
class CleanFn extends DoFn<Row, Encoded<Row>> {
  private final FeatureSpec spec;
  private final RowCoder rowCoder;
  private final FaultForTests fault;

  CleanFn(FeatureSpec spec, RowCoder rowCoder, FaultForTests fault) {
    this.spec = spec;
    this.rowCoder = rowCoder;
    this.fault = fault;
  }

  @ProcessElement
  public void process(@Element Row row, MultiOutputReceiver out) {
    Encoded<Row> cleaned;
    try {
      fault.before(CleanEvents.STEP, row);
      cleaned = Encoded.of(clean(row), rowCoder);
    } catch (RuntimeException e) {
      QuarantineRecord error =
          RecordErrors.quarantineRecord(CleanEvents.STEP, e, "", payload(row), -1);
      Counters.countQuarantined(error.reason());
      out.get(CleanEvents.QUARANTINED).output(error);
      return;
    }
    // Outside the catch: on a fused runner the output runs the next steps, whose errors are theirs.
    out.get(CleanEvents.CLEANED_ENCODED).output(cleaned);
  }

  private Row clean(Row row) {
    List<FieldSpec> fields = spec.fields();
    Object[] values = new Object[fields.size()];
    for (int i = 0; i < values.length; i++) {
      FieldSpec f = fields.get(i);
      Object v = row.getValue(i);
      if (v == null && f.defaultValue() != null) {
        v = f.type() == FieldType.TIMESTAMP
            ? new Instant((long) (Long) f.defaultValue())
            : f.defaultValue();
      }
      if (v instanceof String && f.caseMode() != null) {
        v = SpecParser.applyCase((String) v, f.caseMode());
      }
      values[i] = v;
    }
    return Row.withSchema(row.getSchema()).attachValues(Arrays.asList(values));
  }

  /** The event as text for the quarantine; its plain form if even that cannot be serialized. */
  private static String payload(Row row) {
    try {
      return EventRows.canonical(row);
    } catch (RuntimeException e) {
      return String.valueOf(row);
    }
  }
}
