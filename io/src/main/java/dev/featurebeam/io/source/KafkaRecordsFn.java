package dev.featurebeam.io.source;

import dev.featurebeam.model.RawRecord;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * Gives each parsed message its source, {@code TOPIC/PARTITION@OFFSET}, counting the records and
 * the malformed ones under {@link KafkaSource}'s name.
 */
class KafkaRecordsFn extends DoFn<KafkaRecord<Void, RawRecord>, RawRecord> {
  private final Counter recordsCounter = Metrics.counter(KafkaSource.class, "records");
  private final Counter malformedCounter =
      Metrics.counter(KafkaSource.class, "malformed_records");
  /** Counted per bundle, so that a record costs no metrics update. */
  private transient long records;

  private transient long malformed;

  @StartBundle
  public void startBundle() {
    records = 0;
    malformed = 0;
  }

  @ProcessElement
  public void process(
      @Element KafkaRecord<Void, RawRecord> message, OutputReceiver<RawRecord> out) {
    RawRecord parsed = message.getKV().getValue();
    records++;
    if (parsed.formatError() != null) {
      malformed++;
    }
    out.output(KafkaMessageParser.withSource(parsed,
        message.getTopic() + "/" + message.getPartition() + "@" + message.getOffset()));
  }

  @FinishBundle
  public void finishBundle() {
    recordsCounter.inc(records);
    malformedCounter.inc(malformed);
  }
}
