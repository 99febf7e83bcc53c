package dev.featurebeam.transforms;

import com.google.auto.value.AutoValue;
import dev.featurebeam.coders.Encoded;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
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
 * grouped ({@link FindRepeatedKeys}); the rest pass straight through. The rule is
 * {@link DedupRule}'s, as on the stream's {@link DedupByStateFn}. Bounded input in the global
 * window only.
 */
@AutoValue
abstract class DedupByGrouping extends PTransform<PCollection<Row>, PCollection<Row>> {
  private static final TupleTag<KV<String, Encoded<Row>>> REPEATED =
      new TupleTag<KV<String, Encoded<Row>>>() {};
  private static final TupleTag<Encoded<Row>> SINGLE = new TupleTag<Encoded<Row>>() {};
  private static final TupleTag<Encoded<Row>> KEPT = new TupleTag<Encoded<Row>>() {};
  private static final TupleTag<KV<String, Long>> COUNTS = new TupleTag<KV<String, Long>>() {};

  abstract int keyIndex();

  abstract int timestampIndex();

  abstract RowCoder rowCoder();

  abstract @Nullable Long withinMillis();

  /** Where the duplicate counts go as elements too; null: metrics only. */
  abstract @Nullable StageCounts counts();

  static DedupByGrouping of(int keyIndex, int timestampIndex, RowCoder rowCoder,
      @Nullable Long withinMillis, @Nullable StageCounts counts) {
    return new AutoValue_DedupByGrouping(keyIndex, timestampIndex, rowCoder, withinMillis, counts);
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
    TupleTag<KV<String, Long>> countsTag = counts() == null ? null : COUNTS;
    PCollectionTuple keptAndCounts =
        split
            .get(REPEATED)
            .setCoder(keyedCoder)
            .apply("GroupByDedupKey", GroupByKey.create())
            .apply("KeepFirstCopies",
                ParDo.of(new KeepFirstCopiesFn(timestampIndex(), withinMillis(), countsTag))
                    .withOutputTags(KEPT, countsTag == null ? TupleTagList.empty()
                        : TupleTagList.of(countsTag)));
    PCollection<Encoded<Row>> kept = keptAndCounts.get(KEPT).setCoder(Encoded.coder(rowCoder));
    if (counts() != null) {
      counts().add(keptAndCounts.get(COUNTS));
    }
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
   * All copies of a key in one group. Outputs the kept copies as they came, encoded, each at its
   * event time. Events without a key value never get here: {@link SplitFn} passes them on.
   */
  static class KeepFirstCopiesFn extends DoFn<KV<String, Iterable<Encoded<Row>>>, Encoded<Row>> {
    private final int timestampIndex;
    private final @Nullable Long within;
    private final BundleCounter exact = BundleCounter.of(Counters.DUPLICATES_EXACT);
    private final BundleCounter conflicting = BundleCounter.of(Counters.DUPLICATES_CONFLICTING);

    private final @Nullable TupleTag<KV<String, Long>> countsTag;

    KeepFirstCopiesFn(int timestampIndex, @Nullable Long within,
        @Nullable TupleTag<KV<String, Long>> countsTag) {
      this.timestampIndex = timestampIndex;
      this.within = within;
      this.countsTag = countsTag;
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      StageCounts.flush(context, countsTag, exact, conflicting);
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<Encoded<Row>>> group, OutputReceiver<Encoded<Row>> out) {
      List<DedupRule.Copy<Encoded<Row>>> copies = new ArrayList<>();
      for (Encoded<Row> copy : group.getValue()) {
        Row row = copy.get();
        copies.add(new DedupRule.Copy<>(
            EventRows.eventTimeMillis(row, timestampIndex), EventRows.canonical(row), copy));
      }
      DedupRule.Decision<Encoded<Row>> decision =
          DedupRule.decide(copies, new DedupRule.History(), within);
      exact.inc(decision.exact);
      conflicting.inc(decision.conflicting);
      // A group is stamped with the end of the global window; a kept copy gets its own time.
      for (DedupRule.Copy<Encoded<Row>> kept : decision.kept) {
        out.outputWithTimestamp(kept.value, new Instant(kept.ts));
      }
    }

    /** Moving a group's output back to its event time is the point (see process). */
    @SuppressWarnings("deprecation")
    @Override
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE);
    }
  }
}
