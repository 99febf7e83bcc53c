package dev.featurebeam.spec;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionVerdict;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.Row;
import org.joda.time.ReadableInstant;

/**
 * A spec's {@code quality:} checks as {@link PartitionChecks}, the checks the offline store runs
 * unless told otherwise. Row checks count the failing rows of each as-of partition and keep the
 * {@value #EXAMPLES} smallest failing entities as examples; {@code max_row_count_change} compares
 * a partition with the previous date's partition as this run computed it, or for the run's first
 * date with the nearest earlier partition that is published ({@link Baselines}).
 *
 * <pre>{@code
 * PartitionChecks<?> checks = SpecChecks.of(spec, days, SpecChecks.Baselines.of(publishedRowCounts));
 * }</pre>
 */
public final class SpecChecks implements PartitionChecks<SpecChecks.Stats> {
  /** Failing entities named per check and partition. */
  static final int EXAMPLES = 5;

  /**
   * The row counts of the partitions already published, by as-of epoch day: the baselines of
   * {@code max_row_count_change} for a run's first date. Read once each time a run is judged, on
   * the worker that judges it.
   */
  public interface Baselines extends Serializable {
    Map<Long, Long> rowCounts();

    /** Fixed row counts, e.g. read from the store before the run. */
    static Baselines of(Map<Long, Long> rowCounts) {
      checkNotNull(rowCounts, "no row counts");
      TreeMap<Long, Long> copy = new TreeMap<>(rowCounts);
      return () -> copy;
    }
  }

  private final List<QualityCheck> all;
  private final List<QualityCheck> rowChecks = new ArrayList<>();
  private final String entity;
  private final List<Long> days;
  private final Baselines published;

  private SpecChecks(FeatureSpec spec, List<Long> days, Baselines published) {
    this.all = spec.quality();
    for (QualityCheck c : all) {
      if (c.kind() != QualityCheck.Kind.MAX_ROW_COUNT_CHANGE) {
        rowChecks.add(c);
      }
    }
    this.entity = spec.entity();
    this.days = List.copyOf(new TreeSet<>(days));
    this.published = published;
  }

  /**
   * The checks of {@code spec} for a run of {@code asOfEpochDays} (days since 1970-01-01), each of
   * which gets a verdict, rows or not.
   */
  public static SpecChecks of(FeatureSpec spec, List<Long> asOfEpochDays, Baselines published) {
    checkNotNull(spec, "no spec");
    checkArgument(asOfEpochDays != null && !asOfEpochDays.isEmpty(), "no as-of dates");
    checkNotNull(published, "no baselines");
    return new SpecChecks(spec, asOfEpochDays, published);
  }

  /** The checks as the spec reads them, in its order. */
  public List<String> descriptions() {
    List<String> out = new ArrayList<>();
    all.forEach(c -> out.add(c.description()));
    return out;
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
   * nearest earlier partition of the {@link Baselines}. A baseline without rows passes the check:
   * any change from zero rows would be infinite.
   */
  @Override
  public List<PartitionVerdict> judge(SortedMap<Long, Stats> byDate) {
    TreeMap<Long, Stats> byDay = new TreeMap<>(byDate);
    for (long day : days) {
      byDay.computeIfAbsent(day, d -> create());
    }
    TreeMap<Long, Long> baselines = new TreeMap<>(published.rowCounts());
    List<PartitionVerdict> verdicts = new ArrayList<>();
    Map.Entry<Long, Long> baseline = byDay.isEmpty() ? null : baselines.lowerEntry(byDay.firstKey());
    for (Map.Entry<Long, Stats> e : byDay.entrySet()) {
      long day = e.getKey();
      Stats stats = e.getValue();
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
    if (v instanceof ReadableInstant) {
      return ((ReadableInstant) v).getMillis();
    }
    return Double.NaN; // a string never satisfies a numeric check
  }

  /**
   * The statistics of a set of rows: the row count and, per row check, the failing rows and the
   * smallest failing entities. Mutable; equal when their counts and examples are.
   */
  public static final class Stats {
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

    void merge(Stats other) {
      rows += other.rows;
      for (int i = 0; i < failures.length; i++) {
        failures[i] += other.failures[i];
        if (other.failures[i] > 0) {
          examples.get(i).addAll(other.examples.get(i));
        }
        while (examples.get(i).size() > EXAMPLES) {
          examples.get(i).pollLast();
        }
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Stats && rows == ((Stats) o).rows
          && Arrays.equals(failures, ((Stats) o).failures)
          && examples.equals(((Stats) o).examples);
    }

    @Override
    public int hashCode() {
      return Objects.hash(rows, Arrays.hashCode(failures), examples);
    }

    @Override
    public String toString() {
      return rows + " rows, failures " + Arrays.toString(failures) + ", e.g. " + examples;
    }
  }

  /**
   * The row count, then per check the failures and the example entities in order. Deterministic,
   * and equal statistics encode alike: the examples are sorted sets.
   */
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

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
