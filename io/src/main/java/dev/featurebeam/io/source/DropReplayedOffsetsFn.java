package dev.featurebeam.io.source;

import dev.featurebeam.model.RawRecord;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/**
 * Per Kafka partition, passes each offset once: a message at an offset below the next one due is
 * dropped (and counted in {@code replayed_records}). Beam 2.62's Flink source gives a restored job
 * each partition twice, the checkpoint's reader and a fresh one from the group's committed offsets
 * (apache/beam#31313, fixed in 2.63, which is not served here), so without this every message
 * after the committed offset would be read again. Each reader delivers its partition in offset
 * order from where it started, and the first reader's start is the checkpoint's, whose earlier
 * offsets this state already holds; so an offset below the next due one was delivered before.
 * The state is checkpointed with the rest of the stream.
 */
class DropReplayedOffsetsFn
    extends DoFn<KV<Integer, KafkaRecord<Void, RawRecord>>, KafkaRecord<Void, RawRecord>> {
  private final Counter replayed = Metrics.counter(KafkaSource.class, "replayed_records");

  /** The lowest offset not delivered yet. */
  @StateId("next")
  private final StateSpec<ValueState<Long>> nextSpec = StateSpecs.value(VarLongCoder.of());

  @ProcessElement
  public void process(
      @Element KV<Integer, KafkaRecord<Void, RawRecord>> element,
      @StateId("next") ValueState<Long> next,
      OutputReceiver<KafkaRecord<Void, RawRecord>> out) {
    KafkaRecord<Void, RawRecord> message = element.getValue();
    Long due = next.read();
    if (due != null && message.getOffset() < due) {
      replayed.inc();
      return;
    }
    next.write(message.getOffset() + 1);
    out.output(message);
  }
}
