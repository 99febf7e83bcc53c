package dev.featurebeam.transforms;

import com.google.auto.value.AutoValue;
import dev.featurebeam.coders.Encoded;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * {@link DeduplicateEvents.Method#GROUP_REPEATED_KEYS}: every copy is at hand, so one grouping by
 * key decides, without per-key state or timers. Only events whose key occurs more than once are
 * grouped ({@link FindRepeatedKeys}); the rest pass straight through. Same rule, same counts as
 * the stream's {@link KeepOneFn}. Bounded input in the global window only.
 */
@AutoValue
abstract class KeepEarliestPerKey extends PTransform<PCollection<Row>, PCollection<Row>> {
  private static final TupleTag<KV<String, Encoded<Row>>> REPEATED =
      new TupleTag<KV<String, Encoded<Row>>>() {};
  private static final TupleTag<Encoded<Row>> SINGLE = new TupleTag<Encoded<Row>>() {};

  abstract int keyIndex();

  abstract int timestampIndex();

  abstract RowCoder rowCoder();

  static KeepEarliestPerKey of(int keyIndex, int timestampIndex, RowCoder rowCoder) {
    return new AutoValue_KeepEarliestPerKey(keyIndex, timestampIndex, rowCoder);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> events) {
    RowCoder rowCoder = rowCoder();
    KvCoder<String, Encoded<Row>> keyedCoder =
        KvCoder.of(StringUtf8Coder.of(), Encoded.coder(rowCoder));
    // Events travel encoded from here: the runner copies their bytes without decoding them.
    PCollection<KV<String, Encoded<Row>>> keyed =
        events
            .apply("KeyByDedupKey", ParDo.of(new KeyEncodedFn(keyIndex(), rowCoder)))
            .setCoder(keyedCoder);
    PCollectionView<List<byte[]>> repeatedKeys =
        keyed.apply("FindRepeatedKeys", FindRepeatedKeys.create());
    // Both outputs hold encoded events: a multi-output step on Flink's batch runner sends every
    // element to the readers of each output, where only a copy of bytes is cheap.
    PCollectionTuple split =
        keyed.apply(
            "SplitByRepeatedKeys",
            ParDo.of(new SplitFn(repeatedKeys))
                .withSideInputs(repeatedKeys)
                .withOutputTags(REPEATED, TupleTagList.of(SINGLE)));
    PCollection<Encoded<Row>> singles = split.get(SINGLE).setCoder(Encoded.coder(rowCoder));
    PCollection<Encoded<Row>> kept =
        split
            .get(REPEATED)
            .setCoder(keyedCoder)
            .apply("GroupByDedupKey", GroupByKey.create())
            .apply("KeepEarliest", ParDo.of(new KeepEarliestFn(timestampIndex())))
            .setCoder(Encoded.coder(rowCoder));
    // Still encoded where the two paths meet: Flink's batch runner buffers one side of a union
    // whose other side waits on a grouping, and bytes are cheap to buffer.
    return PCollectionList.of(singles)
        .and(kept)
        .apply("AllKept", Flatten.pCollections())
        .apply("DecodeKept", ParDo.of(new EncodedRows.DecodeFn()))
        .setCoder(rowCoder);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("keyField", rowCoder().getSchema().getField(keyIndex()).getName())
        .withLabel("Dedup key"));
  }

  /** Sends an event to the grouping when its key may repeat; the rest keep their event time. */
  static class SplitFn extends DoFn<KV<String, Encoded<Row>>, KV<String, Encoded<Row>>> {
    private final PCollectionView<List<byte[]>> repeatedKeys;
    // The global window's side input of a bounded input never changes: read it once per instance.
    private transient FindRepeatedKeys.RepeatedKeys repeated;

    SplitFn(PCollectionView<List<byte[]>> repeatedKeys) {
      this.repeatedKeys = repeatedKeys;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      if (repeated == null) {
        repeated = FindRepeatedKeys.RepeatedKeys.of(c.sideInput(repeatedKeys));
      }
      KV<String, Encoded<Row>> event = c.element();
      if (repeated.mayRepeat(event.getKey())) {
        c.output(event);
      } else {
        c.output(SINGLE, event.getValue());
      }
    }
  }

  /** Keys an event by its dedup key, the event encoded for the shuffle. */
  static class KeyEncodedFn extends DoFn<Row, KV<String, Encoded<Row>>> {
    private final int keyIndex;
    private final RowCoder rowCoder;

    KeyEncodedFn(int keyIndex, RowCoder rowCoder) {
      this.keyIndex = keyIndex;
      this.rowCoder = rowCoder;
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<KV<String, Encoded<Row>>> out) {
      out.output(KV.of(DeduplicateEvents.dedupKey(event, keyIndex), Encoded.of(event, rowCoder)));
    }
  }

  /**
   * All copies of a key in one group. Outputs the kept copy as it came, encoded, at its event
   * time. Events without a key value never get here: {@link SplitFn} passes them on.
   */
  static class KeepEarliestFn extends DoFn<KV<String, Iterable<Encoded<Row>>>, Encoded<Row>> {
    private final int timestampIndex;
    private final BundleCounter exact = BundleCounter.of(Counters.DUPLICATES_EXACT);
    private final BundleCounter conflicting = BundleCounter.of(Counters.DUPLICATES_CONFLICTING);

    KeepEarliestFn(int timestampIndex) {
      this.timestampIndex = timestampIndex;
    }

    @FinishBundle
    public void finishBundle() {
      BundleCounter.flush(exact, conflicting);
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<Encoded<Row>>> group, OutputReceiver<Encoded<Row>> out) {
      Iterator<Encoded<Row>> copies = group.getValue().iterator();
      Encoded<Row> best = copies.next();
      Row first = best.get();
      long bestTs = EventRows.eventTimeMillis(first, timestampIndex);
      String bestSerialized = EventRows.canonical(first);
      Set<String> distinct = new HashSet<>();
      distinct.add(bestSerialized);
      long total = 1;
      while (copies.hasNext()) {
        Encoded<Row> copy = copies.next();
        Row row = copy.get();
        String serialized = EventRows.canonical(row);
        long ts = EventRows.eventTimeMillis(row, timestampIndex);
        total++;
        distinct.add(serialized);
        if (DeduplicateEvents.isBetter(ts, serialized, bestTs, bestSerialized)) {
          best = copy;
          bestSerialized = serialized;
          bestTs = ts;
        }
      }
      exact.inc(total - distinct.size());
      conflicting.inc(distinct.size() - 1);
      // A group is stamped with the end of the global window; the kept copy gets its own time.
      out.outputWithTimestamp(best, new Instant(bestTs));
    }

    /** Moving a group's output back to its event time is the point (see process). */
    @SuppressWarnings("deprecation")
    @Override
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE);
    }
  }
}
