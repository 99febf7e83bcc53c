package dev.featurebeam.benchmarks;

import dev.featurebeam.io.sink.PartitionReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;

/**
 * Checks that several outputs of benchmarks/bench_spec.yaml hold the same rows: FeatureBeam's
 * offline store (Parquet partitions) and the comparators' CSV files, each against the first one
 * named (the reference).
 *
 * <pre>
 * java -cp ... dev.featurebeam.benchmarks.CompareOutputs --from=2025-01-31 --to=2025-04-30 \
 *     featurebeam=OUT duckdb=duck.csv plain-java=plain.csv [--tolerance=1e-9] [--show=10]
 * </pre>
 *
 * <p>A folder is a FeatureBeam store: {@code OUT}, {@code OUT/bench_features/v1} or any folder
 * with {@code as_of_date=YYYY-MM-DD} partitions. A file is CSV with {@link BenchSpec#COLUMNS}
 * ordered by as_of_date (the users of one date may come in any order). Rows match on (user_id,
 * as_of_date); every date of the range must have its partition. Counts and booleans must be
 * equal; amount_30d must be null on both sides or equal within {@code tolerance} relative, and the
 * report says how many were bit-identical. Exit status 0 when everything agrees, 1 otherwise;
 * the last line says {@code AGREE} or {@code DISAGREE}.
 */
public final class CompareOutputs {
  private static final int AMOUNT = BenchSpec.COLUMNS.indexOf("amount_30d");

  private CompareOutputs() {}

  /** Parquet's reader logs every block at INFO: warnings only, unless the caller says otherwise. */
  static void quietLogs() {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
        System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    System.setProperty("org.slf4j.simpleLogger.log.org.apache.hadoop.util.NativeCodeLoader", "error");
  }

  public static void main(String[] args) throws IOException {
    quietLogs();
    BenchArgs a;
    LocalDate[] range;
    List<String[]> sides = new ArrayList<>();
    try {
      a = BenchArgs.parse(args);
      range = a.range();
      sides.addAll(labelled(a.positional));
      if (sides.size() < 2) {
        throw new IllegalArgumentException("name at least two outputs to compare");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("CompareOutputs: " + e.getMessage());
      System.err.println("usage: CompareOutputs --from=YYYY-MM-DD --to=YYYY-MM-DD [--tolerance=1e-9]"
          + " [--show=10] LABEL=PATH LABEL=PATH ...");
      System.exit(2);
      return;
    }
    double tolerance = Double.parseDouble(a.get("tolerance", "1e-9"));
    int show = Integer.parseInt(a.get("show", "10"));
    boolean agree = compare(sides, range[0], range[1], tolerance, show, System.out).agree;
    System.exit(agree ? 0 : 1);
  }

  /** LABEL=PATH words as {label, path} pairs. */
  static List<String[]> labelled(List<String> words) {
    List<String[]> sides = new ArrayList<>();
    for (String p : words) {
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("'" + p + "' is not LABEL=PATH");
      }
      sides.add(new String[] {p.substring(0, eq), p.substring(eq + 1)});
    }
    return sides;
  }

  /** What {@link #compare} found. */
  static final class Result {
    final boolean agree;
    final List<Tally> tallies;

    Result(boolean agree, List<Tally> tallies) {
      this.agree = agree;
      this.tallies = tallies;
    }
  }

  /** Compares every side with the first and prints a report. */
  static Result compare(List<String[]> sides, LocalDate from, LocalDate to, double tolerance,
      int show, PrintStream out) throws IOException {
    List<Source> sources = new ArrayList<>();
    try {
      for (String[] s : sides) {
        sources.add(Source.open(s[0], Path.of(s[1])));
      }
      Source ref = sources.get(0);
      List<Tally> tallies = new ArrayList<>();
      for (int i = 1; i < sources.size(); i++) {
        tallies.add(new Tally(sources.get(i).label, ref.label));
      }
      for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
        Map<String, Object[]> expected = ref.rows(d);
        for (int i = 1; i < sources.size(); i++) {
          tallies.get(i - 1).compare(d, sources.get(i).rows(d), expected, tolerance, show);
        }
      }
      for (Source s : sources) {
        s.finish();
      }
      boolean agree = true;
      for (int i = 0; i < sources.size(); i++) {
        Source s = sources.get(i);
        String extra = s.problems.isEmpty() ? "" : "; " + String.join("; ", s.problems);
        out.printf(Locale.ROOT, "%s: %,d rows in %s..%s from %s%s%n", s.label, s.rowCount, from, to,
            s.path, extra);
        agree &= s.problems.isEmpty();
      }
      for (Tally t : tallies) {
        t.print(out);
        agree &= t.agrees();
      }
      out.println(agree ? "AGREE" : "DISAGREE");
      return new Result(agree, tallies);
    } finally {
      for (Source s : sources) {
        s.close();
      }
    }
  }

  /** Differences between one side and the reference. */
  static final class Tally {
    final String label;
    final String refLabel;
    long common;
    long onlyHere;
    long onlyRef;
    long mismatches;
    long amountsNonNull;
    long amountsExact;
    long amountsClose;
    double maxRelative;
    final List<String> examples = new ArrayList<>();

    Tally(String label, String refLabel) {
      this.label = label;
      this.refLabel = refLabel;
    }

    void compare(LocalDate date, Map<String, Object[]> got, Map<String, Object[]> expected,
        double tolerance, int show) {
      for (Map.Entry<String, Object[]> e : expected.entrySet()) {
        Object[] g = got.get(e.getKey());
        if (g == null) {
          onlyRef++;
          example(show, "row (" + e.getKey() + ", " + date + ") only in " + refLabel + ": " + row(e.getValue()));
          continue;
        }
        common++;
        Object[] x = e.getValue();
        for (int c = 2; c < x.length; c++) {
          if (c == AMOUNT && x[c] != null && g[c] != null) {
            double xe = (Double) x[c];
            double ge = (Double) g[c];
            amountsNonNull++;
            if (Double.compare(xe, ge) == 0) {
              amountsExact++;
              continue;
            }
            double rel = Math.abs(xe - ge) / Math.max(Math.abs(xe), Math.abs(ge));
            maxRelative = Math.max(maxRelative, rel);
            if (rel <= tolerance) {
              amountsClose++;
              continue;
            }
          } else if (java.util.Objects.equals(x[c], g[c])) {
            continue;
          }
          mismatches++;
          example(show, "(" + e.getKey() + ", " + date + ") " + BenchSpec.COLUMNS.get(c) + ": "
              + label + "=" + g[c] + " " + refLabel + "=" + x[c]);
        }
      }
      for (Map.Entry<String, Object[]> e : got.entrySet()) {
        if (!expected.containsKey(e.getKey())) {
          onlyHere++;
          example(show, "row (" + e.getKey() + ", " + date + ") only in " + label + ": " + row(e.getValue()));
        }
      }
    }

    private void example(int show, String s) {
      if (examples.size() < show) {
        examples.add(s);
      }
    }

    boolean agrees() {
      return onlyHere == 0 && onlyRef == 0 && mismatches == 0;
    }

    void print(PrintStream out) {
      out.printf(Locale.ROOT,
          "%s vs %s: %s; %,d rows in common, %,d only in %s, %,d only in %s, %,d values differ;"
              + " amount_30d: %,d non-null in common, %,d bit-identical, %,d within tolerance"
              + " (max relative difference %.3g)%n",
          label, refLabel, agrees() ? "same rows" : "DIFFERENT", common, onlyHere, label, onlyRef,
          refLabel, mismatches, amountsNonNull, amountsExact, amountsClose, maxRelative);
      for (String e : examples) {
        out.println("  " + e);
      }
    }
  }

  private static String row(Object[] v) {
    StringBuilder sb = new StringBuilder();
    for (int c = 2; c < v.length; c++) {
      sb.append(c > 2 ? ", " : "").append(BenchSpec.COLUMNS.get(c)).append('=').append(v[c]);
    }
    return sb.toString();
  }

  /** One output: a FeatureBeam store or a comparator's CSV file, read one date at a time. */
  abstract static class Source implements AutoCloseable {
    final String label;
    final Path path;
    long rowCount;
    final List<String> problems = new ArrayList<>();

    Source(String label, Path path) {
      this.label = label;
      this.path = path;
    }

    static Source open(String label, Path path) throws IOException {
      if (Files.isDirectory(path)) {
        Path v1 = path.resolve("bench_features").resolve("v1");
        return new Store(label, Files.isDirectory(v1) ? v1 : path);
      }
      if (Files.isRegularFile(path)) {
        return new Csv(label, path);
      }
      throw new IllegalArgumentException(label + ": " + path + " does not exist");
    }

    /** The rows of one as-of date, keyed by user_id; values in {@link BenchSpec#COLUMNS} order. */
    abstract Map<String, Object[]> rows(LocalDate date) throws IOException;

    /** Called after the last date: notes anything left over. */
    void finish() {}

    @Override
    public void close() throws IOException {}
  }

  /** FeatureBeam's offline store: as_of_date=YYYY-MM-DD/part-*.parquet. */
  static final class Store extends Source {
    Store(String label, Path dir) {
      super(label, dir);
    }

    @Override
    Map<String, Object[]> rows(LocalDate date) {
      Map<String, Object[]> rows = new HashMap<>();
      Path partition = path.resolve("as_of_date=" + date);
      if (!Files.isDirectory(partition)) {
        problems.add("no partition for " + date);
        return rows;
      }
      if (!Files.exists(partition.resolve("_MANIFEST.json"))) {
        problems.add("partition " + date + " has no _MANIFEST.json (not published)");
      }
      for (GenericRecord r : PartitionReader.read(partition)) {
        Object[] v = new Object[BenchSpec.COLUMNS.size()];
        for (int c = 0; c < v.length; c++) {
          Object x = r.get(BenchSpec.COLUMNS.get(c));
          if (x instanceof CharSequence) {
            x = x.toString();
          } else if (c == 1 && x instanceof Integer) {
            x = LocalDate.ofEpochDay((Integer) x);
          }
          v[c] = normalize(c, x);
        }
        if (!date.equals(v[1])) {
          problems.add("partition " + date + " holds a row dated " + v[1]);
        }
        if (rows.put((String) v[0], v) != null) {
          problems.add("user " + v[0] + " appears twice on " + date);
        }
        rowCount++;
      }
      return rows;
    }
  }

  /** A comparator's CSV: header {@link BenchSpec#COLUMNS}, rows ordered by as_of_date. */
  static final class Csv extends Source {
    private final BufferedReader in;
    private final CsvLines lines;
    private final List<String> values = new ArrayList<>();
    private String[] pending; // the first row of a later date, read ahead
    private LocalDate pendingDate;
    private LocalDate lastDate;
    private final int[] col = new int[BenchSpec.COLUMNS.size()];

    Csv(String label, Path file) throws IOException {
      super(label, file);
      in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
      lines = new CsvLines(in);
      List<String> header = CsvLines.header(lines.next());
      for (int c = 0; c < col.length; c++) {
        col[c] = header.indexOf(BenchSpec.COLUMNS.get(c));
        if (col[c] < 0) {
          throw new IllegalArgumentException(label + ": " + file + " has no column " + BenchSpec.COLUMNS.get(c));
        }
      }
      advance();
    }

    private void advance() throws IOException {
      String text = lines.next();
      if (text == null) {
        pending = null;
        pendingDate = null;
        return;
      }
      if (!CsvLines.split(text, values)) {
        throw new IOException(label + ": cannot split line: " + text);
      }
      pending = values.toArray(new String[0]);
      pendingDate = LocalDate.parse(pending[col[1]]);
      if (lastDate != null && pendingDate.isBefore(lastDate)) {
        throw new IOException(label + ": " + path + " is not ordered by as_of_date ("
            + pendingDate + " after " + lastDate + ")");
      }
      lastDate = pendingDate;
    }

    @Override
    Map<String, Object[]> rows(LocalDate date) throws IOException {
      Map<String, Object[]> rows = new HashMap<>();
      while (pending != null && pendingDate.isBefore(date)) {
        problems.add("row outside the range or out of order: " + String.join(",", pending));
        advance();
      }
      while (pending != null && pendingDate.equals(date)) {
        Object[] v = new Object[col.length];
        for (int c = 0; c < col.length; c++) {
          String s = pending[col[c]];
          v[c] = s.isEmpty() && c != 0 ? null : parse(c, s);
        }
        if (rows.put((String) v[0], v) != null) {
          problems.add("user " + v[0] + " appears twice on " + date);
        }
        rowCount++;
        advance();
      }
      return rows;
    }

    private static Object parse(int c, String s) {
      switch (BenchSpec.COLUMNS.get(c)) {
        case "user_id":
          return s;
        case "as_of_date":
          return LocalDate.parse(s);
        case "amount_30d":
          return Double.parseDouble(s);
        case "active_24h":
          return Boolean.parseBoolean(s);
        default:
          return normalize(c, Long.parseLong(s));
      }
    }

    @Override
    void finish() {
      if (pending != null) {
        problems.add("rows after the range, from " + pendingDate);
      }
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  /** Integral columns as Long whatever their width (days_since_last is int32 in Parquet). */
  private static Object normalize(int c, Object x) {
    if (x instanceof Integer && c != 1) {
      return ((Integer) x).longValue();
    }
    return x;
  }
}
