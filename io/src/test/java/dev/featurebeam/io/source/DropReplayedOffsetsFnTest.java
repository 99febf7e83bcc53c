package dev.featurebeam.io.source;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.testing.TestPipelineExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.KafkaRecordCoder;
import org.apache.beam.sdk.io.kafka.KafkaTimestampType;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A restored job on Beam 2.62's Flink source: per partition, the checkpoint's reader goes on from
 * where it was, and a second reader delivers the same partition again from an earlier offset;
 * the messages interleave. Every offset passes exactly once, in each partition's order.
 */
@ExtendWith(TestPipelineExtension.class)
class DropReplayedOffsetsFnTest {
  private static KV<Integer, KafkaRecord<Void, RawRecord>> message(int partition, long offset) {
    RawRecord value = RawRecord.of("t/" + partition + "@" + offset, "{\"o\":" + offset + "}",
        Map.of());
    return KV.of(partition, new KafkaRecord<>("t", partition, offset, 0L,
        KafkaTimestampType.CREATE_TIME, null, null, value));
  }

  @Test
  void eachOffsetPassesOnceWhateverReadersDeliverIt(TestPipeline p) {
    KafkaRecordCoder<Void, RawRecord> coder =
        KafkaRecordCoder.of(VoidCoder.of(), RawRecord.RawRecordCoder.of());
    TestStream.Builder<KV<Integer, KafkaRecord<Void, RawRecord>>> stream =
        TestStream.create(KvCoder.of(VarIntCoder.of(), coder));
    // Before the checkpoint: offsets 0..4 of partition 0, 0..1 of partition 1.
    List<KV<Integer, KafkaRecord<Void, RawRecord>>> order = new ArrayList<>();
    for (long o = 0; o <= 4; o++) {
      order.add(message(0, o));
    }
    order.add(message(1, 0));
    order.add(message(1, 1));
    // After the restore: A goes on at 5, B starts again at 2; partition 1 again from 0.
    long[][] interleaved = {{0, 5}, {0, 2}, {0, 3}, {1, 0}, {0, 6}, {0, 4}, {0, 5}, {1, 1},
        {0, 6}, {0, 7}, {1, 2}, {0, 7}, {0, 8}, {0, 8}, {1, 2}, {1, 3}};
    for (long[] m : interleaved) {
      order.add(message((int) m[0], m[1]));
    }
    // One element per step: TestStream keeps the order of its steps.
    for (KV<Integer, KafkaRecord<Void, RawRecord>> m : order) {
      stream = stream.addElements(m);
    }
    PAssert.that(p.apply(stream.advanceWatermarkToInfinity())
            .apply(ParDo.of(new DropReplayedOffsetsFn()))
            .setCoder(coder)
            .apply(MapElements.into(TypeDescriptors.strings())
                .via(r -> r.getPartition() + "@" + r.getOffset())))
        .containsInAnyOrder("0@0", "0@1", "0@2", "0@3", "0@4", "0@5", "0@6", "0@7", "0@8",
            "1@0", "1@1", "1@2", "1@3");
    p.run().waitUntilFinish();
  }
}
