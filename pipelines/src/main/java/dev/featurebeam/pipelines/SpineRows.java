package dev.featurebeam.pipelines;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.ValueParser;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * A training set's spine rows, from the records a file source read: every column as the text it
 * was read as (a JSON null or an absent key is null), then the entity as events carry it
 * (stripped) and the instant in epoch milliseconds. A row without an entity, without a timestamp
 * or with one that does not parse, and a record the source could not read, is quarantined with a
 * reason ({@code MISSING:<column>}, {@code BAD_TIMESTAMP:<column>}, {@code BAD_TYPE:<column>} for
 * a nested value, {@code MALFORMED}); blank lines are counted.
 */
final class SpineRows {
  static final TupleTag<Row> ROWS = new TupleTag<Row>() {};
  static final TupleTag<QuarantineRecord> QUARANTINED = new TupleTag<QuarantineRecord>() {};

  static final String READ = "read";
  static final String BLANK = "blank";
  static final String QUARANTINED_ROWS = "quarantined";
  static final String VALID = "valid";

  private SpineRows() {}

  static final class ParseFn extends DoFn<RawRecord, Row> {
    private final List<String> columns;
    private final String entity;
    private final String timestamp;
    private final String zone;
    private final Schema schema;
    private final Counter read = Metrics.counter(TrainingSetPipeline.SPINE_NAMESPACE, READ);
    private final Counter blank = Metrics.counter(TrainingSetPipeline.SPINE_NAMESPACE, BLANK);
    private final Counter valid = Metrics.counter(TrainingSetPipeline.SPINE_NAMESPACE, VALID);
    private final Counter quarantined =
        Metrics.counter(TrainingSetPipeline.SPINE_NAMESPACE, QUARANTINED_ROWS);

    ParseFn(FeatureSpec spec, List<String> columns, String timestamp, Schema schema) {
      this.columns = new ArrayList<>(columns);
      this.entity = spec.entity();
      this.timestamp = timestamp;
      this.zone = spec.sourceTimezone();
      this.schema = schema;
    }

    @ProcessElement
    public void process(@Element RawRecord raw, MultiOutputReceiver out) {
      read.inc();
      if (raw.blank()) {
        blank.inc();
        return;
      }
      if (raw.formatError() != null) {
        reject(raw, "MALFORMED", raw.formatError(), out);
        return;
      }
      for (String key : new String[] {entity, timestamp}) {
        if (raw.nested().contains(key)) {
          reject(raw, "BAD_TYPE:" + key, "a nested value where text is needed", out);
          return;
        }
      }
      String key = raw.fields().get(entity);
      if (key == null || key.isBlank()) {
        reject(raw, "MISSING:" + entity, "the spine row has no entity", out);
        return;
      }
      String time = raw.fields().get(timestamp);
      if (time == null || time.isBlank()) {
        reject(raw, "MISSING:" + timestamp, "the spine row has no timestamp", out);
        return;
      }
      long instant;
      try {
        instant = ValueParser.parseTimestampMillis(time.strip(), ZoneId.of(zone));
      } catch (ValueParser.BadValueException e) {
        reject(raw, "BAD_TIMESTAMP:" + timestamp, e.getMessage(), out);
        return;
      }
      List<Object> values = new ArrayList<>(columns.size() + 2);
      for (String c : columns) {
        values.add(raw.fields().get(c));
      }
      values.add(key.strip());
      values.add(instant);
      valid.inc();
      out.get(ROWS).output(Row.withSchema(schema).attachValues(values));
    }

    private void reject(RawRecord raw, String reason, String detail, MultiOutputReceiver out) {
      quarantined.inc();
      Metrics.counter(TrainingSetPipeline.SPINE_QUARANTINE_NAMESPACE, reason).inc();
      out.get(QUARANTINED).output(QuarantineRecord.of(reason, detail == null ? "" : detail,
          raw.source(), raw.payload(), raw.payloadLength()));
    }
  }
}
