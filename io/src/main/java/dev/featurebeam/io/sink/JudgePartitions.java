package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionVerdict;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * The quality gate of the offline store: merges the checks' statistics of every staged file per
 * date and judges all dates at once (row-count checks compare a date with the one before it), then
 * fails the built-in check {@value #REPRESENTABLE} of every date with a value its column cannot
 * hold. A few hundred small elements and the rare invalid value, gathered under one key. The
 * checks' statistics stay encoded until the one step that judges them.
 */
@AutoValue
abstract class JudgePartitions
    extends PTransform<PCollection<KV<Long, ShardFile>>, PCollection<PartitionVerdict>> {
  /** The built-in check's name in verdicts and failures; it is listed only when it fails. */
  static final String REPRESENTABLE = "values_representable";

  /** Example values named in a failure. */
  static final int EXAMPLES = 5;

  private static final int STATS = 0;
  private static final int INVALID = 1;
  // Static, so that no function here holds on to the transform and its PCollection.
  private static final TypeDescriptor<KV<Void, RawUnionValue>> KEYED =
      new TypeDescriptor<KV<Void, RawUnionValue>>() {};

  abstract PartitionChecks<?> checks();

  // A PTransform's configuration; never serialized, as no runner serializes a composite.
  abstract @Nullable PCollection<InvalidValue> invalidValues();

  /** Judges the staged files' statistics by {@code checks}, which staged them. */
  static JudgePartitions by(PartitionChecks<?> checks) {
    checkNotNull(checks, "no checks");
    return new AutoValue_JudgePartitions(checks, null);
  }

  /** Values the rows could not hold: each date with one fails {@value #REPRESENTABLE}. */
  JudgePartitions withInvalidValues(PCollection<InvalidValue> invalidValues) {
    checkNotNull(invalidValues, "no invalid values");
    return new AutoValue_JudgePartitions(checks(), invalidValues);
  }

  @Override
  public PCollection<PartitionVerdict> expand(PCollection<KV<Long, ShardFile>> files) {
    UnionCoder union = UnionCoder.of(List.of(
        KvCoder.of(VarLongCoder.of(), ByteArrayCoder.of()), InvalidValue.InvalidValueCoder.of()));
    KvCoder<Void, RawUnionValue> keyed = KvCoder.of(VoidCoder.of(), union);
    PCollectionList<KV<Void, RawUnionValue>> parts =
        PCollectionList.of(
            files
                .apply("FileStats", MapElements.into(KEYED)
                    .via(f -> KV.of((Void) null, new RawUnionValue(STATS,
                        KV.of(f.getKey(), f.getValue().checkStats())))))
                .setCoder(keyed));
    if (invalidValues() != null) {
      parts = parts.and(
          invalidValues()
              .apply("InvalidInGlobalWindow", Window.into(new GlobalWindows()))
              .apply("Invalid", MapElements.into(KEYED)
                  .via(v -> KV.of((Void) null, new RawUnionValue(INVALID, v))))
              .setCoder(keyed));
    }
    return parts
        .apply("StatsAndInvalidValues", Flatten.pCollections())
        .apply("AwaitAllFiles", GroupByKey.create())
        .apply("Judge", ParDo.of(new JudgeFn(checks())))
        .setCoder(PartitionVerdict.PartitionVerdictCoder.of());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("checks", checks().getClass().getName())
            .withLabel("Partition checks"))
        .add(DisplayData.item("invalidValues", invalidValues() != null)
            .withLabel("Fails dates with values their columns cannot hold"));
  }

  static class JudgeFn extends DoFn<KV<Void, Iterable<RawUnionValue>>, PartitionVerdict> {
    private final PartitionChecks<Object> checks;

    @SuppressWarnings("unchecked") // the statistics stay inside the checks: decode, merge, judge
    JudgeFn(PartitionChecks<?> checks) {
      this.checks = (PartitionChecks<Object>) checks;
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(
        @Element KV<Void, Iterable<RawUnionValue>> all, OutputReceiver<PartitionVerdict> out)
        throws IOException {
      List<KV<Long, Object>> partials = new ArrayList<>();
      Map<Long, Invalid> invalid = new HashMap<>();
      for (RawUnionValue v : all.getValue()) {
        if (v.getUnionTag() == STATS) {
          KV<Long, byte[]> stats = (KV<Long, byte[]>) v.getValue();
          partials.add(KV.of(stats.getKey(),
              CoderUtils.decodeFromByteArray(checks.statsCoder(), stats.getValue())));
        } else {
          InvalidValue value = (InvalidValue) v.getValue();
          invalid.computeIfAbsent(value.asOfEpochDay(), d -> new Invalid()).add(value);
        }
      }
      for (PartitionVerdict verdict : checks.judgePartials(partials)) {
        out.output(withInvalid(verdict, invalid.get(verdict.asOfEpochDay())));
      }
    }
  }

  /** The verdict, failing {@value #REPRESENTABLE} too if its date has invalid values. */
  static PartitionVerdict withInvalid(PartitionVerdict verdict, @Nullable Invalid bad) {
    if (bad == null) {
      return verdict;
    }
    List<CheckOutcome> outcomes = new ArrayList<>(verdict.checks());
    outcomes.add(bad.outcome());
    return PartitionVerdict.of(verdict.asOfEpochDay(), verdict.rowCount(), outcomes);
  }

  /** A date's invalid values: how many, and the first few in (entity, feature) order. */
  static final class Invalid {
    long count;
    final TreeSet<String> examples = new TreeSet<>();

    void add(InvalidValue v) {
      count++;
      examples.add(v.describe());
      if (examples.size() > EXAMPLES) {
        examples.pollLast();
      }
    }

    CheckOutcome outcome() {
      return CheckOutcome.of(REPRESENTABLE, false, count + " value" + (count == 1 ? "" : "s")
          + " cannot be stored in the partition's columns, e.g. " + String.join("; ", examples));
    }
  }
}
