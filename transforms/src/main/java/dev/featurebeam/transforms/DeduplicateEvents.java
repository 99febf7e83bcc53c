package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.spec.FeatureSpec;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import javax.annotation.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * De-duplicates by the spec's {@code dedup_key} under its {@code dedup_within} horizon W
 * ({@link DedupRule}): a copy is dropped when another copy of its key is earlier by no more than W,
 * or at the same time with a smaller canonical serialization; identical copies stand for one.
 * Without W exactly one copy per key is kept, the earliest. The choice never depends on arrival
 * order. Counts {@code duplicates_exact} (a copy identical to another) and
 * {@code duplicates_conflicting} (one per other serialization dropped). A spec without a
 * {@code dedup_key} keeps every event (the input is returned as is). Beam's {@code Deduplicate}
 * keeps the first copy to arrive, which is not deterministic for conflicting copies, hence this
 * step.
 *
 * <p>Two implementations apply the same rule and give the same rows and counts; {@link #withMethod}
 * chooses, and {@link Method#AUTO} picks by the input's boundedness:
 *
 * <ul>
 *   <li>{@link Method#GROUP_REPEATED_KEYS}, bounded input only: the events whose key occurs more
 *       than once ({@link FindRepeatedKeys}) are grouped by key and decided per group; the rest,
 *       nearly all of them in practice, pass straight on.
 *   <li>{@link Method#STATE_AND_TIMERS}, any input: per-key state with event-time timers, since a
 *       global grouping never fires on a stream (the keys share the state and timers of a few
 *       hundred buckets, {@link DedupByStateFn}). A day's copies are decided once the watermark
 *       passes the day's end ({@link #withFirstDecisionAt} can hold the first decisions later);
 *       a key is forgotten once W has passed since its last copy, so an unbounded input needs a
 *       finite W.
 * </ul>
 *
 * <p>Either way a kept copy keeps its event time, in the global window.
 */
@AutoValue
public abstract class DeduplicateEvents extends PTransform<PCollection<Row>, PCollection<Row>> {
  private static final TupleTag<Row> KEPT = new TupleTag<Row>() {};
  private static final TupleTag<KV<String, Long>> COUNTS = new TupleTag<KV<String, Long>>() {};
  /** How the copies of a key are brought together. */
  public enum Method {
    /** {@link #GROUP_REPEATED_KEYS} for a bounded input, {@link #STATE_AND_TIMERS} otherwise. */
    AUTO,
    /** Group only the events whose key repeats, once all are at hand. Bounded input only. */
    GROUP_REPEATED_KEYS,
    /** Per-key state and event-time timers, which the watermark fires. Any input. */
    STATE_AND_TIMERS;

    /** The method {@code AUTO} stands for on {@code input}, or this one. */
    Method resolve(PCollection<?> input) {
      if (this != AUTO) {
        return this;
      }
      return input.isBounded() == PCollection.IsBounded.BOUNDED
          ? GROUP_REPEATED_KEYS
          : STATE_AND_TIMERS;
    }
  }

  abstract FeatureSpec spec();

  abstract Method method();

  abstract @Nullable Instant firstDecisionAt();

  abstract @Nullable StageCounts counts();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setMethod(Method method);

    abstract Builder setFirstDecisionAt(@Nullable Instant at);

    abstract Builder setCounts(@Nullable StageCounts counts);

    abstract DeduplicateEvents build();
  }

  /** De-duplicates by {@code spec}'s {@code dedup_key}; {@link Method#AUTO} unless set. */
  public static DeduplicateEvents of(FeatureSpec spec) {
    checkNotNull(spec, "a spec is needed");
    return new AutoValue_DeduplicateEvents.Builder().setSpec(spec).setMethod(Method.AUTO).build();
  }

  /** Which implementation runs; {@link Method#GROUP_REPEATED_KEYS} needs a bounded input. */
  public DeduplicateEvents withMethod(Method method) {
    return toBuilder().setMethod(checkNotNull(method, "a method is needed")).build();
  }

  /**
   * {@link Method#STATE_AND_TIMERS} decides no copy before {@code at}: copies of earlier days wait
   * until then. For a stream whose earlier records all count for its first date, as
   * {@link QuarantineLateRecords} lets them until that date closes.
   */
  public DeduplicateEvents withFirstDecisionAt(Instant at) {
    return toBuilder().setFirstDecisionAt(checkNotNull(at, "an instant is needed")).build();
  }

  /**
   * Adds the duplicate counts to {@code counts} as elements too (as well as to the metrics), for a
   * pipeline whose counts must survive a restore; see {@link StageCounts}.
   */
  public DeduplicateEvents withCounts(StageCounts counts) {
    return toBuilder().setCounts(checkNotNull(counts, "counts")).build();
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> events) {
    if (spec().dedupKey() == null) {
      return events;
    }
    Method method = method().resolve(events);
    boolean bounded = events.isBounded() == PCollection.IsBounded.BOUNDED;
    checkArgument(bounded || method != Method.GROUP_REPEATED_KEYS,
        "GROUP_REPEATED_KEYS needs a bounded input; a stream takes STATE_AND_TIMERS (or AUTO)");
    Long within = spec().dedupWithinMillis();
    checkArgument(bounded || within != null,
        "a stream with the dedup_key %s needs a finite dedup_within: its per-key state must end",
        spec().dedupKey());
    RowCoder rowCoder = RowCoder.of(spec().eventSchema());
    int keyIndex = spec().fieldIndex(spec().dedupKey());
    int timestampIndex = spec().fieldIndex(spec().timestamp());
    // The default END_OF_WINDOW timestamp combiner: Flink's batch runner groups such a
    // GroupByKey without a pre-combining sort; the kept copy gets its event time back.
    PCollection<Row> inGlobalWindow =
        events.apply("InGlobalWindow", Window.<Row>into(new GlobalWindows()));
    if (method == Method.GROUP_REPEATED_KEYS) {
      return inGlobalWindow.apply("DedupByGrouping",
          DedupByGrouping.of(keyIndex, timestampIndex, rowCoder, within, counts()));
    }
    TupleTag<KV<String, Long>> countsTag = counts() == null ? null : COUNTS;
    PCollectionTuple keptAndCounts = inGlobalWindow
        .apply("KeyByBucket", WithKeys.of((Row r) -> DedupByStateFn.bucket(dedupKey(r, keyIndex)))
            .withKeyType(TypeDescriptors.integers()))
        .setCoder(KvCoder.of(VarIntCoder.of(), rowCoder))
        // Only a stream needs to forget keys: a bounded input ends, and with it the state.
        .apply("DedupByState", ParDo.of(new DedupByStateFn(rowCoder, keyIndex, timestampIndex,
            within, firstDecisionAt() == null ? Long.MIN_VALUE : firstDecisionAt().getMillis(),
            !bounded, countsTag))
            .withOutputTags(KEPT, countsTag == null ? TupleTagList.empty()
                : TupleTagList.of(countsTag)));
    if (counts() != null) {
      counts().add(keptAndCounts.get(COUNTS));
    }
    return keptAndCounts.get(KEPT).setCoder(rowCoder);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .addIfNotNull(DisplayData.item("dedupKey", spec().dedupKey()).withLabel("Dedup key"))
        .add(DisplayData.item("method", method().name()).withLabel("Method"))
        .addIfNotNull(DisplayData.item("dedupWithin", spec().dedupWithinMillis() == null ? null
            : Duration.millis(spec().dedupWithinMillis())).withLabel("Dedup within"))
        .addIfNotNull(DisplayData.item("firstDecisionAt", firstDecisionAt())
            .withLabel("First decisions at"));
  }

  /** The dedup key's value as text; "" when the event has none (never a duplicate). */
  static String dedupKey(Row event, int keyIndex) {
    Object k = EventRows.plainValue(event, keyIndex);
    return k == null ? "" : k.toString();
  }

}
