package dev.featurebeam.io.sink;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;

/**
 * The store's stages for {@link OfflineStoreWrite.Method#DATE_BY_DATE}: each as-of date is staged
 * and judged in its own daily window ({@link DateWindows}), so that on a stream it is published
 * as soon as the watermark has passed its closing time, while later dates are still open. The
 * files and verdicts are those of {@link WriteStagedPartitions} and {@link JudgePartitions}: the
 * same Parquet writer, the same checks, the same bytes.
 */
final class StageAndJudgeByDate {
  private StageAndJudgeByDate() {}

  /**
   * Rows to staged files, keyed by date, in the date's window. A {@link DateClock} gives every
   * (date, shard) an empty marker, so empty shards and dates without rows still get their files.
   */
  static final class Stage extends PTransform<PCollection<Row>, PCollection<KV<Long, ShardFile>>> {
    private final StagingLayout staging;
    private final FeatureSpec spec;
    private final DateWindows windows;
    private final long firstDay;
    private final long lastDay;
    private final int shards;
    private final PartitionChecks<?> checks;

    Stage(StagingLayout staging, FeatureSpec spec, DateWindows windows, long firstDay,
        long lastDay, int shards, PartitionChecks<?> checks) {
      this.staging = staging;
      this.spec = spec;
      this.windows = windows;
      this.firstDay = firstDay;
      this.lastDay = lastDay;
      this.shards = shards;
      this.checks = checks;
    }

    @Override
    public PCollection<KV<Long, ShardFile>> expand(PCollection<Row> rows) {
      ListCoder<Row> listCoder = ListCoder.of(rows.getCoder());
      KvCoder<KV<Long, Integer>, Encoded<List<Row>>> slotCoder =
          KvCoder.of(KvCoder.of(VarLongCoder.of(), VarIntCoder.of()), Encoded.coder(listCoder));
      PCollection<KV<KV<Long, Integer>, Encoded<List<Row>>>> bySlot =
          rows.apply("BySlot", ParDo.of(new BySlotFn(shards, windows, listCoder)))
              .setCoder(slotCoder);
      PCollection<KV<KV<Long, Integer>, Encoded<List<Row>>>> markers =
          rows.apply("Clock", new DateClock(windows, firstDay, lastDay))
              .apply("EveryShard", ParDo.of(new EveryShardFn(shards, listCoder)))
              .setCoder(slotCoder);
      return PCollectionList.of(bySlot)
          .and(markers)
          .apply("RowsAndMarkers", Flatten.pCollections())
          .apply("IntoDates", Window.into(windows.windowFn()))
          .apply("GroupByDateAndShard", GroupByKey.create())
          .apply("WriteShardFile", ParDo.of(new WriteStagedPartitions.WriteShardFileFn(
              staging, spec.entity(), OfflineSchema.avroSchema(spec).toString(), shards, checks)))
          .setCoder(KvCoder.of(VarLongCoder.of(), ShardFile.ShardFileCoder.of()));
    }

    /** Keys a row by its (date, shard), in its date's window. */
    static final class BySlotFn extends DoFn<Row, KV<KV<Long, Integer>, Encoded<List<Row>>>> {
      private final int shards;
      private final DateWindows windows;
      private final ListCoder<Row> listCoder;

      BySlotFn(int shards, DateWindows windows, ListCoder<Row> listCoder) {
        this.shards = shards;
        this.windows = windows;
        this.listCoder = listCoder;
      }

      @ProcessElement
      public void process(@Element Row row,
          OutputReceiver<KV<KV<Long, Integer>, Encoded<List<Row>>>> out) {
        long day = row.getLogicalTypeValue(1, LocalDate.class).toEpochDay();
        KV<Long, Integer> slot = KV.of(day, OfflineStore.shardOf(row.getString(0), shards));
        // Forward to the end of the date's window (never back): the date decides the window.
        out.outputWithTimestamp(KV.of(slot, Encoded.of(List.of(row), listCoder)),
            windows.lastInstant(day));
      }
    }

    /** An empty marker for each shard of a date the clock emits. */
    static final class EveryShardFn extends DoFn<Long, KV<KV<Long, Integer>, Encoded<List<Row>>>> {
      private final int shards;
      private final ListCoder<Row> listCoder;

      EveryShardFn(int shards, ListCoder<Row> listCoder) {
        this.shards = shards;
        this.listCoder = listCoder;
      }

      @ProcessElement
      public void process(@Element Long day,
          OutputReceiver<KV<KV<Long, Integer>, Encoded<List<Row>>>> out) {
        Encoded<List<Row>> marker = Encoded.of(List.of(), listCoder);
        for (int s = 0; s < shards; s++) {
          out.output(KV.of(KV.of(day, s), marker));
        }
      }
    }
  }

  /**
   * Staged files to one verdict per date, in the date's window. A row-count check compares a date
   * with the date before it, as {@link JudgePartitions} does: each date's statistics are sent on
   * into the next date's window too, so its judge sees both.
   */
  static final class Judge
      extends PTransform<PCollection<KV<Long, ShardFile>>, PCollection<PartitionVerdict>> {
    private static final int STATS = 0;
    private static final int PREVIOUS = 1;
    private static final int INVALID = 2;

    private final PartitionChecks<?> checks;
    private final DateWindows windows;
    private final transient @Nullable PCollection<InvalidValue> invalidValues;

    Judge(PartitionChecks<?> checks, DateWindows windows,
        @Nullable PCollection<InvalidValue> invalidValues) {
      this.checks = checks;
      this.windows = windows;
      this.invalidValues = invalidValues;
    }

    @Override
    public PCollection<PartitionVerdict> expand(PCollection<KV<Long, ShardFile>> files) {
      KvCoder<Long, byte[]> statsCoder = KvCoder.of(VarLongCoder.of(), ByteArrayCoder.of());
      KvCoder<Long, RawUnionValue> keyed = KvCoder.of(VarLongCoder.of(),
          UnionCoder.of(List.of(statsCoder, statsCoder, InvalidValue.InvalidValueCoder.of())));
      PCollectionList<KV<Long, RawUnionValue>> parts = PCollectionList.of(
          files.apply("StatsHereAndNext", ParDo.of(new StatsHereAndNextFn(windows)))
              .setCoder(keyed)
              .apply("StatsIntoDates", Window.into(windows.windowFn())));
      if (invalidValues != null) {
        parts = parts.and(invalidValues
            .apply("InvalidByDate", ParDo.of(new InvalidByDateFn(windows)))
            .setCoder(keyed)
            .apply("InvalidIntoDates", Window.into(windows.windowFn())));
      }
      return parts
          .apply("StatsAndInvalidValues", Flatten.pCollections())
          .apply("AwaitTheDatesFiles", GroupByKey.create())
          .apply("Judge", ParDo.of(new JudgeDateFn(checks, windows)))
          .setCoder(PartitionVerdict.PartitionVerdictCoder.of());
    }

    /** A file's statistics for its date, and as the previous date's for the next one. */
    static final class StatsHereAndNextFn
        extends DoFn<KV<Long, ShardFile>, KV<Long, RawUnionValue>> {
      private final DateWindows windows;

      StatsHereAndNextFn(DateWindows windows) {
        this.windows = windows;
      }

      @ProcessElement
      public void process(@Element KV<Long, ShardFile> f,
          OutputReceiver<KV<Long, RawUnionValue>> out) {
        long day = f.getKey();
        KV<Long, byte[]> stats = KV.of(day, f.getValue().checkStats());
        out.output(KV.of(day, new RawUnionValue(STATS, stats)));
        // Forward in time, into the next date's window: never late.
        out.outputWithTimestamp(KV.of(day + 1, new RawUnionValue(PREVIOUS, stats)),
            windows.lastInstant(day + 1));
      }
    }

    /** An invalid value, in its date's window. */
    static final class InvalidByDateFn extends DoFn<InvalidValue, KV<Long, RawUnionValue>> {
      private final DateWindows windows;

      InvalidByDateFn(DateWindows windows) {
        this.windows = windows;
      }

      @ProcessElement
      public void process(@Element InvalidValue v, OutputReceiver<KV<Long, RawUnionValue>> out) {
        out.outputWithTimestamp(KV.of(v.asOfEpochDay(), new RawUnionValue(INVALID, v)),
            windows.lastInstant(v.asOfEpochDay()));
      }
    }

    /** Judges one date from its files' statistics and the previous date's, if it was staged. */
    static final class JudgeDateFn extends DoFn<KV<Long, Iterable<RawUnionValue>>, PartitionVerdict> {
      private final PartitionChecks<Object> checks;
      private final DateWindows windows;

      @SuppressWarnings("unchecked") // the statistics stay inside the checks
      JudgeDateFn(PartitionChecks<?> checks, DateWindows windows) {
        this.checks = (PartitionChecks<Object>) checks;
        this.windows = windows;
      }

      @ProcessElement
      @SuppressWarnings("unchecked")
      public void process(@Element KV<Long, Iterable<RawUnionValue>> date, IntervalWindow window,
          OutputReceiver<PartitionVerdict> out) throws IOException {
        long day = date.getKey();
        List<KV<Long, Object>> partials = new ArrayList<>();
        boolean staged = false;
        JudgePartitions.Invalid invalid = null;
        for (RawUnionValue v : date.getValue()) {
          if (v.getUnionTag() == INVALID) {
            if (invalid == null) {
              invalid = new JudgePartitions.Invalid();
            }
            invalid.add((InvalidValue) v.getValue());
          } else {
            staged |= v.getUnionTag() == STATS;
            KV<Long, byte[]> stats = (KV<Long, byte[]>) v.getValue();
            partials.add(KV.of(stats.getKey(),
                CoderUtils.decodeFromByteArray(checks.statsCoder(), stats.getValue())));
          }
        }
        if (!staged) {
          return; // the day after the last date: only its predecessor's statistics came
        }
        if (windows.dayOf(window) != day) {
          throw new IllegalStateException("as_of_date " + LocalDate.ofEpochDay(day)
              + " arrived in the window of " + LocalDate.ofEpochDay(windows.dayOf(window)));
        }
        for (PartitionVerdict verdict : checks.judgePartials(partials)) {
          if (verdict.asOfEpochDay() == day) {
            out.output(JudgePartitions.withInvalid(verdict, invalid));
          }
        }
      }
    }
  }

  /**
   * Deletes what a date left in the run's staging folder once it is published or rejected (its
   * staged folder, the old folder a swap moved aside). The run's staging folder itself stays for
   * the driver, which removes it when the stream ends.
   */
  static final class RemoveDateStaging extends DoFn<PartitionOutcome, PartitionOutcome> {
    private final StagingLayout staging;

    RemoveDateStaging(StagingLayout staging) {
      this.staging = staging;
    }

    @ProcessElement
    public void process(@Element PartitionOutcome outcome, OutputReceiver<PartitionOutcome> out)
        throws IOException {
      OfflineStore.deleteRecursively(staging.stagedDir(outcome.asOfEpochDay()));
      OfflineStore.deleteRecursively(staging.asideDir(outcome.asOfEpochDay()));
      out.output(outcome);
    }
  }
}
