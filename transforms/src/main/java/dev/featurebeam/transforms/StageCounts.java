package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import dev.featurebeam.model.QuarantineRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TupleTag;
import org.joda.time.Instant;

/**
 * Counts of a pipeline's stages as elements, {@code KV<name, n>} per bundle, for a sink that keeps
 * them in Beam state ({@code SumCounts}). Beam metrics do not survive a restore from a Flink
 * checkpoint (the new job counts from zero, and repeats what followed the checkpoint); counts that
 * flow as elements are restored and replayed with the state, so each event is counted once.
 * Composites add their counts while they expand, as Beam's {@code ErrorHandler} collects bad
 * records; {@link #all} then flattens them, once. Names are those of {@link Counters}; a
 * quarantine reason is counted as {@link #REASON_PREFIX} + its code.
 *
 * <p>Like an {@code ErrorHandler} it is configuration of one expansion, not of a running pipeline:
 * it holds the collections, so it is not serializable and must not be shared by two pipelines.
 */
public final class StageCounts {
  /** The name prefix of a per-reason quarantine count. */
  public static final String REASON_PREFIX = "reason:";
  /** Events that left de-duplication; with {@link Counters#VALID} it gives out_of_range. */
  public static final String UNIQUE = "unique";

  private final List<PCollection<KV<String, Long>>> parts = new ArrayList<>();
  private boolean flattened;

  private StageCounts() {}

  public static StageCounts create() {
    return new StageCounts();
  }

  /** Counts the elements of {@code input} under {@code name}. */
  public <T> void count(String name, PCollection<T> input) {
    checkArgument(name != null && !name.isEmpty(), "a count needs a name");
    add(input
        .apply("CountInGlobalWindow " + name, Window.<T>into(new GlobalWindows()))
        .apply("Count " + name, ParDo.of(new CountFn<T>(name))));
  }

  /** Counts quarantined records under {@link Counters#QUARANTINED} and under their reasons. */
  public void countQuarantined(String stepName, PCollection<QuarantineRecord> records) {
    add(records
        .apply("CountInGlobalWindow " + stepName, Window.into(new GlobalWindows()))
        .apply("Count " + stepName, ParDo.of(new CountReasonsFn())));
  }

  /** Adds counts a step emitted itself, in the global window. */
  public void add(PCollection<KV<String, Long>> counts) {
    checkState(!flattened, "the counts were already flattened");
    parts.add(counts.setCoder(coder()));
  }

  /** Every count added, as one collection (empty when none was added); call once. */
  public PCollection<KV<String, Long>> all(Pipeline pipeline) {
    checkState(!flattened, "the counts were already flattened");
    flattened = true;
    if (parts.isEmpty()) {
      return pipeline.apply("NoCounts", Create.empty(coder()));
    }
    return PCollectionList.of(parts).apply("AllCounts", Flatten.pCollections()).setCoder(coder());
  }

  public static KvCoder<String, Long> coder() {
    return KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of());
  }

  /**
   * Flushes {@code counters} to their metrics and, when {@code tag} is set, emits the same numbers
   * as counts into the global window: a DoFn's {@code @FinishBundle} when it feeds a StageCounts.
   */
  static void flush(DoFn<?, ?>.FinishBundleContext context,
      @Nullable TupleTag<KV<String, Long>> tag, BundleCounter... counters) {
    for (BundleCounter counter : counters) {
      long n = counter.flush();
      if (tag != null && n != 0) {
        context.output(tag, KV.of(counter.name(), n), timestamp(), GlobalWindow.INSTANCE);
      }
    }
  }

  /** Per bundle, how many elements passed. */
  static final class CountFn<T> extends DoFn<T, KV<String, Long>> {
    private final String name;
    private transient long n;

    CountFn(String name) {
      this.name = checkNotNull(name);
    }

    @ProcessElement
    public void process() {
      n++;
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      if (n != 0) {
        context.output(KV.of(name, n), timestamp(), GlobalWindow.INSTANCE);
        n = 0;
      }
    }
  }

  /** Per bundle, how many records were quarantined, in all and by reason. */
  static final class CountReasonsFn extends DoFn<QuarantineRecord, KV<String, Long>> {
    private transient Map<String, Long> byReason;

    @StartBundle
    public void startBundle() {
      byReason = new HashMap<>();
    }

    @ProcessElement
    public void process(@Element QuarantineRecord record) {
      byReason.merge(record.reason(), 1L, Long::sum);
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      long all = 0;
      for (Map.Entry<String, Long> e : byReason.entrySet()) {
        context.output(KV.of(REASON_PREFIX + e.getKey(), e.getValue()), timestamp(),
            GlobalWindow.INSTANCE);
        all += e.getValue();
      }
      if (all != 0) {
        context.output(KV.of(Counters.QUARANTINED, all), timestamp(), GlobalWindow.INSTANCE);
      }
      byReason.clear();
    }
  }

  /**
   * The timestamp of a count: the global window's last instant, never behind any watermark, so a
   * count is never late wherever it goes.
   */
  private static Instant timestamp() {
    return GlobalWindow.INSTANCE.maxTimestamp();
  }
}
