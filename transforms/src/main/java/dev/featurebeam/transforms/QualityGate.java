package dev.featurebeam.transforms;

import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.QualityCheck;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;

/**
 * Runs the spec's {@code quality:} checks on each as-of partition and gives one
 * {@link PartitionVerdict} per date of the run (dates without rows included). Row checks count the
 * failing rows and keep the five smallest failing entities as examples. {@code
 * max_row_count_change} compares a partition with the previous date's partition as this run
 * computed it, or for the run's first date with the nearest earlier partition the store publishes
 * ({@code published}, read by the caller from the store's manifests).
 */
public class QualityGate extends PTransform<PCollection<Row>, PCollection<PartitionVerdict>> {
  static final int EXAMPLES = 5;

  private final FeatureSpec spec;
  private final AsOfRange range;
  private final TreeMap<Long, Long> published;

  private QualityGate(FeatureSpec spec, AsOfRange range, Map<Long, Long> published) {
    this.spec = spec;
    this.range = range;
    this.published = new TreeMap<>(published);
  }

  /**
   * @param published row counts of partitions already published in the store, by as-of epoch day
   */
  public static QualityGate of(FeatureSpec spec, AsOfRange range, Map<Long, Long> published) {
    return new QualityGate(spec, range, published);
  }

  /**
   * The same checks for a sink to run on the rows it writes ({@code OfflineStoreWrite.withChecks}),
   * so that the feature rows need not be read twice.
   */
  public static PartitionChecks<?> checks(
      FeatureSpec spec, AsOfRange range, Map<Long, Long> published) {
    return new Checks(spec, range, published);
  }

  @Override
  public PCollection<PartitionVerdict> expand(PCollection<Row> rows) {
    Checks checks = new Checks(spec, range, published);
    KvCoder<Long, Stats> statsCoder = KvCoder.of(VarLongCoder.of(), StatsCoder.of());
    PCollection<KV<Long, Stats>> observed =
        rows.apply("InGlobalWindow", Window.<Row>into(new GlobalWindows()))
            .apply("CheckRows", ParDo.of(new CheckRowsFn(checks)))
            .setCoder(statsCoder)
            // One Stats per date before the single-key gathering below. A combine, not a
            // grouping: the DirectRunner copies a grouping's values for every bundle that adds to
            // a key, and every upstream bundle adds a partial for every date.
            .apply("MergePerDate", Combine.perKey(new MergeStatsFn(checks.rowChecks.size())))
            .setCoder(statsCoder);
    // Every date gets a verdict, rows or not; this also gives the gathering below an element
    // when there are no rows at all.
    List<KV<Long, Stats>> empty = new ArrayList<>();
    for (long day : range.days()) {
      empty.add(KV.of(day, checks.create()));
    }
    PCollection<KV<Long, Stats>> everyDate =
        rows.getPipeline().apply("EveryDate", Create.of(empty).withCoder(statsCoder));
    return PCollectionList.of(observed)
        .and(everyDate)
        .apply("AllDates", Flatten.pCollections())
        .apply("ToOneKey", ParDo.of(new DoFn<KV<Long, Stats>, KV<Void, KV<Long, Stats>>>() {
          @ProcessElement
          public void process(
              @Element KV<Long, Stats> e, OutputReceiver<KV<Void, KV<Long, Stats>>> out) {
            out.output(KV.of(null, e));
          }
        }))
        .setCoder(KvCoder.of(VoidCoder.of(), statsCoder))
        .apply("Gather", GroupByKey.create())
        .apply("Judge", ParDo.of(new JudgeFn(checks)));
  }

  /**
   * The spec's checks as {@link PartitionChecks}: row checks count failing rows and keep the
   * smallest failing entities; {@code max_row_count_change} is judged across the run's dates.
   */
  static final class Checks implements PartitionChecks<Stats> {
    private final List<QualityCheck> all;
    final List<QualityCheck> rowChecks = new ArrayList<>();
    private final String entity;
    private final List<Long> days;
    private final TreeMap<Long, Long> published;

    Checks(FeatureSpec spec, AsOfRange range, Map<Long, Long> published) {
      this.all = spec.quality();
      for (QualityCheck c : all) {
        if (c.kind() != QualityCheck.Kind.MAX_ROW_COUNT_CHANGE) {
          rowChecks.add(c);
        }
      }
      this.entity = spec.entity();
      this.days = range.days();
      this.published = new TreeMap<>(published);
    }

    @Override
    public Stats create() {
      return new Stats(rowChecks.size());
    }

    @Override
    public void add(Stats stats, Row row) {
      stats.rows++;
      for (int i = 0; i < rowChecks.size(); i++) {
        if (!holds(rowChecks.get(i), row)) {
          stats.fail(i, row.getString(entity));
        }
      }
    }

    @Override
    public void merge(Stats into, Stats other) {
      into.merge(other);
    }

    @Override
    public Coder<Stats> statsCoder() {
      return StatsCoder.of();
    }

    /**
     * Dates in order. {@code max_row_count_change} compares a date with the date before it as this
     * run computed it, passed or not, so that one bad day rejects itself (and, as the count comes
     * back, the day after) instead of every later day; the run's first date is compared with the
     * nearest earlier partition the store publishes. A baseline without rows passes the check:
     * any change from zero rows would be infinite.
     */
    @Override
    public List<PartitionVerdict> judge(SortedMap<Long, Stats> byDate) {
      TreeMap<Long, Stats> byDay = new TreeMap<>(byDate);
      for (long day : days) {
        byDay.computeIfAbsent(day, d -> create());
      }
      List<PartitionVerdict> verdicts = new ArrayList<>();
      Map.Entry<Long, Long> baseline = null;
      boolean first = true;
      for (Map.Entry<Long, Stats> e : byDay.entrySet()) {
        long day = e.getKey();
        Stats stats = e.getValue();
        if (first) {
          baseline = published.lowerEntry(day);
          first = false;
        }
        List<CheckOutcome> outcomes = new ArrayList<>();
        for (QualityCheck c : all) {
          if (c.kind() == QualityCheck.Kind.MAX_ROW_COUNT_CHANGE) {
            outcomes.add(rowCountChange(c, stats.rows, baseline));
          } else {
            int i = rowChecks.indexOf(c);
            long failed = stats.failures[i];
            String detail = failed + " of " + stats.rows + " rows fail"
                + (failed > 0 ? ", e.g. " + String.join(", ", stats.examples.get(i)) : "");
            outcomes.add(CheckOutcome.of(c.description(), failed == 0, detail));
          }
        }
        verdicts.add(PartitionVerdict.of(day, stats.rows, outcomes));
        baseline = Map.entry(day, stats.rows);
      }
      return verdicts;
    }

    private static CheckOutcome rowCountChange(
        QualityCheck c, long rows, Map.Entry<Long, Long> baseline) {
      if (baseline == null) {
        return CheckOutcome.of(c.description(), true,
            rows + " rows; no earlier published partition to compare with");
      }
      long before = baseline.getValue();
      if (before == 0) {
        return CheckOutcome.of(c.description(), true, String.format(Locale.ROOT,
            "%d rows; %s has no rows to compare with", rows,
            LocalDate.ofEpochDay(baseline.getKey())));
      }
      double change = Math.abs(rows - before) / (double) before;
      String detail = String.format(Locale.ROOT, "%d rows vs %d on %s: change %.3f (limit %s)",
          rows, before, LocalDate.ofEpochDay(baseline.getKey()), change, c.limit());
      return CheckOutcome.of(c.description(), change <= c.limit(), detail);
    }
  }

  /** Row count and, per row check, failing rows and the smallest failing entities. */
  static final class Stats {
    long rows;
    final long[] failures;
    final List<TreeSet<String>> examples = new ArrayList<>();

    Stats(int checks) {
      failures = new long[checks];
      for (int i = 0; i < checks; i++) {
        examples.add(new TreeSet<>());
      }
    }

    void fail(int check, String entity) {
      failures[check]++;
      TreeSet<String> ex = examples.get(check);
      ex.add(entity);
      if (ex.size() > EXAMPLES) {
        ex.pollLast();
      }
    }

    // Value equality, so that coders and tests can compare Stats.
    @Override
    public boolean equals(Object o) {
      return o instanceof Stats && rows == ((Stats) o).rows
          && java.util.Arrays.equals(failures, ((Stats) o).failures)
          && examples.equals(((Stats) o).examples);
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hash(rows, java.util.Arrays.hashCode(failures), examples);
    }

    void merge(Stats other) {
      rows += other.rows;
      for (int i = 0; i < failures.length; i++) {
        failures[i] += other.failures[i];
        for (String e : other.examples.get(i)) {
          if (other.failures[i] > 0) {
            examples.get(i).add(e);
          }
        }
        while (examples.get(i).size() > EXAMPLES) {
          examples.get(i).pollLast();
        }
      }
    }
  }

  /** Merges partial {@link Stats} of a date; never mutates its inputs. */
  static final class MergeStatsFn extends Combine.CombineFn<Stats, Stats, Stats> {
    private final int checks;

    MergeStatsFn(int checks) {
      this.checks = checks;
    }

    @Override
    public Stats createAccumulator() {
      return new Stats(checks);
    }

    @Override
    public Stats addInput(Stats accumulator, Stats input) {
      accumulator.merge(input);
      return accumulator;
    }

    @Override
    public Stats mergeAccumulators(Iterable<Stats> accumulators) {
      Stats merged = createAccumulator();
      for (Stats s : accumulators) {
        merged.merge(s);
      }
      return merged;
    }

    @Override
    public Stats extractOutput(Stats accumulator) {
      return accumulator;
    }

    @Override
    public Coder<Stats> getAccumulatorCoder(CoderRegistry registry, Coder<Stats> inputCoder) {
      return StatsCoder.of();
    }
  }

  /** Row count, then per check the failures and the example entities. */
  static final class StatsCoder extends AtomicCoder<Stats> {
    private static final StatsCoder INSTANCE = new StatsCoder();
    private static final Coder<String> STRING = StringUtf8Coder.of();

    static StatsCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Stats stats, OutputStream out) throws IOException {
      VarInt.encode(stats.rows, out);
      VarInt.encode(stats.failures.length, out);
      for (int i = 0; i < stats.failures.length; i++) {
        VarInt.encode(stats.failures[i], out);
        VarInt.encode(stats.examples.get(i).size(), out);
        for (String e : stats.examples.get(i)) {
          STRING.encode(e, out);
        }
      }
    }

    @Override
    public Stats decode(InputStream in) throws IOException {
      long rows = VarInt.decodeLong(in);
      Stats stats = new Stats(VarInt.decodeInt(in));
      stats.rows = rows;
      for (int i = 0; i < stats.failures.length; i++) {
        stats.failures[i] = VarInt.decodeLong(in);
        int examples = VarInt.decodeInt(in);
        for (int j = 0; j < examples; j++) {
          stats.examples.get(i).add(STRING.decode(in));
        }
      }
      return stats;
    }

    @Override
    public void verifyDeterministic() {}
  }

  /**
   * Checks rows and sums the outcomes per date over a bundle, emitting one partial {@link Stats}
   * per date it saw. Not a {@code Combine.perKey} over rows: on Flink's batch runner its
   * pre-combine sorts every row by date first, a pass as costly as the checks.
   */
  static class CheckRowsFn extends DoFn<Row, KV<Long, Stats>> {
    private final Checks checks;
    private transient Map<Long, Stats> byDate;

    CheckRowsFn(Checks checks) {
      this.checks = checks;
    }

    @StartBundle
    public void startBundle() {
      byDate = new HashMap<>();
    }

    @ProcessElement
    public void process(@Element Row row) {
      long day = row.getLogicalTypeValue(FeatureSpec.AS_OF_DATE, LocalDate.class).toEpochDay();
      checks.add(byDate.computeIfAbsent(day, d -> checks.create()), row);
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      for (Map.Entry<Long, Stats> e : byDate.entrySet()) {
        context.output(KV.of(e.getKey(), e.getValue()), GlobalWindow.INSTANCE.maxTimestamp(),
            GlobalWindow.INSTANCE);
      }
      byDate = null;
    }
  }

  /** Whether one row passes a row check. Nulls pass every check but not_null. */
  static boolean holds(QualityCheck check, Row row) {
    switch (check.kind()) {
      case NOT_NULL:
        return row.getValue(check.column()) != null;
      case BETWEEN: {
        Object v = row.getValue(check.column());
        if (v == null) {
          return true;
        }
        double d = asNumber(v);
        return d >= check.lo() && d <= check.hi();
      }
      case COMPARE: {
        Double l = operand(check.left(), row);
        Double r = operand(check.right(), row);
        if (l == null || r == null) {
          return true;
        }
        switch (check.op()) {
          case "<": return l < r;
          case "<=": return l <= r;
          case ">": return l > r;
          case ">=": return l >= r;
          case "==": return l.doubleValue() == r.doubleValue();
          case "!=": return l.doubleValue() != r.doubleValue();
          default: throw new IllegalStateException("operator " + check.op());
        }
      }
      default:
        return true;
    }
  }

  private static Double operand(String text, Row row) {
    if (row.getSchema().hasField(text)) {
      Object v = row.getValue(text);
      return v == null ? null : asNumber(v);
    }
    return Double.parseDouble(text);
  }

  /** Numbers as they are, booleans as 0/1, dates as epoch days, instants as epoch millis. */
  private static double asNumber(Object v) {
    if (v instanceof Number) {
      return ((Number) v).doubleValue();
    }
    if (v instanceof Boolean) {
      return (Boolean) v ? 1 : 0;
    }
    if (v instanceof LocalDate) {
      return ((LocalDate) v).toEpochDay();
    }
    if (v instanceof org.joda.time.ReadableInstant) {
      return ((org.joda.time.ReadableInstant) v).getMillis();
    }
    return Double.NaN; // a string never satisfies a numeric check
  }

  /** Sees every date at once, in order, so row-count baselines follow what gets published. */
  static class JudgeFn extends DoFn<KV<Void, Iterable<KV<Long, Stats>>>, PartitionVerdict> {
    private final Checks checks;

    JudgeFn(Checks checks) {
      this.checks = checks;
    }

    @ProcessElement
    public void process(
        @Element KV<Void, Iterable<KV<Long, Stats>>> element, OutputReceiver<PartitionVerdict> out) {
      checks.judgePartials(element.getValue()).forEach(out::output);
    }
  }
}
