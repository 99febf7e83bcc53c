package dev.featurebeam.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * benchmarks/bench_spec.yaml's exact training set as ONE DuckDB SQL query: the clean events of
 * {@code duckdb_events.sql} (shared with {@link DuckDbFeatures}), then {@code
 * duckdb_training_set.sql}, which computes every spine row's features at its own instant with
 * RANGE window frames over epoch milliseconds. Run in an in-memory DuckDB over the same events CSV
 * and spine CSV that {@code ./featurebeam training-set} reads; writes one Parquet file with the
 * spine's columns as text, then the features, one row per spine row (copies included), in
 * FeatureBeam's order (instant, entity, the spine's columns).
 *
 * <pre>
 * java -cp ... dev.featurebeam.benchmarks.DuckDbTrainingSet --source=events.csv --spine=spine.csv \
 *     --out=training.parquet [--spineTimestamp=timestamp] [--threads=N] [--memoryLimit=8GB] [--printSql]
 * </pre>
 *
 * <p>The spine must be clean: a header with the entity ({@code user_id}) and the timestamp column,
 * every line splittable, every entity non-empty, every timestamp {@code YYYY-MM-DDTHH:MM:SS[.mmm]Z}
 * (what {@link SpineGen} writes). Anything else stops the query with an error rather than being
 * quarantined as FeatureBeam would.
 */
public final class DuckDbTrainingSet {
  private DuckDbTrainingSet() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a;
    try {
      a = BenchArgs.parse(args);
      a.required("source");
      a.required("spine");
      if (!a.flag("printSql")) {
        a.required("out");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("DuckDbTrainingSet: " + e.getMessage());
      System.err.println("usage: DuckDbTrainingSet --source=EVENTS.csv --spine=SPINE.csv"
          + " --out=FILE.parquet [--spineTimestamp=timestamp] [--threads=N] [--memoryLimit=SIZE]"
          + " [--printSql]");
      System.exit(2);
      return;
    }
    Path source = Path.of(a.required("source"));
    Path spine = Path.of(a.required("spine"));
    String ts = a.get("spineTimestamp", "timestamp");
    try {
      if (a.flag("printSql")) {
        System.out.println(query(source, spine, ts));
        return;
      }
      run(source, spine, ts, Path.of(a.required("out")), a.get("threads", null),
          a.get("memoryLimit", null), System.err);
    } catch (IllegalArgumentException e) {
      System.err.println("DuckDbTrainingSet: " + e.getMessage());
      System.exit(2);
    }
  }

  /** Runs the query and writes the Parquet file {@code out}; returns the number of rows. */
  static long run(Path source, Path spine, String spineTimestamp, Path out, String threads,
      String memoryLimit, PrintStream log) throws IOException, SQLException {
    long t0 = System.nanoTime();
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    String sql = query(source, spine, spineTimestamp);
    Files.deleteIfExists(out);
    long rows;
    String version;
    try (Connection c = DuckDbFeatures.open(); Statement st = c.createStatement()) {
      version = DuckDbFeatures.configure(st, threads, memoryLimit);
      long t1 = System.nanoTime();
      rows = DuckDbFeatures.copy(st, "COPY (" + sql + ") TO "
          + DuckDbFeatures.literal(out.toString()) + " (FORMAT parquet)");
      long t2 = System.nanoTime();
      log.printf(Locale.ROOT, "duckdb: %,d training rows to %s; %.2f s (query %.2f s) on DuckDB %s%n",
          rows, out, (t2 - t0) / 1e9, (t2 - t1) / 1e9, version);
    }
    return rows;
  }

  /** The query for these files, without the COPY around it. */
  static String query(Path source, Path spine, String spineTimestamp) throws IOException {
    List<String> columns = spineHeader(spine);
    int entity = columns.indexOf(BenchSpec.ENTITY);
    int ts = columns.indexOf(spineTimestamp);
    if (entity < 0) {
      throw new IllegalArgumentException("the spine " + spine + " has no column '"
          + BenchSpec.ENTITY + "'");
    }
    if (ts < 0) {
      throw new IllegalArgumentException("the spine " + spine + " has no column '"
          + spineTimestamp + "' (--spineTimestamp)");
    }
    if (new HashSet<>(columns).size() != columns.size()) {
      throw new IllegalArgumentException("the spine " + spine + " has a column twice: " + columns);
    }
    for (String c : columns) {
      if (BenchSpec.FEATURES.contains(c)) {
        throw new IllegalArgumentException("the spine " + spine + " has a column named like the"
            + " feature '" + c + "'");
      }
    }
    String events = DuckDbFeatures.eventsSql(source);
    if (events == null) {
      // A file without a header has no events: the same query over an empty events relation.
      events = "events AS (SELECT NULL::VARCHAR AS user_id, NULL::VARCHAR AS event_type,"
          + " NULL::DOUBLE AS amount, NULL::VARCHAR AS status, NULL::BIGINT AS ms WHERE false)";
    }
    List<String> declared = new ArrayList<>();
    List<String> pass = new ArrayList<>();
    List<String> c = new ArrayList<>();
    List<String> nulls = new ArrayList<>();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      String name = columns.get(i);
      declared.add(DuckDbFeatures.literal(name) + ": 'VARCHAR'");
      pass.add("coalesce(" + DuckDbFeatures.ident(name) + ", '') AS _c" + i);
      c.add("_c" + i);
      nulls.add("NULL::VARCHAR");
      out.add("_c" + i + " AS " + DuckDbFeatures.ident(name));
    }
    Map<String, String> values = new LinkedHashMap<>();
    values.put("spine_pass_through", String.join(", ", pass));
    values.put("spine", DuckDbFeatures.literal(spine.toAbsolutePath().toString()));
    values.put("spine_columns", "{" + String.join(", ", declared) + "}");
    values.put("spine_key", DuckDbFeatures.strip("_c" + entity));
    values.put("entity_name", DuckDbFeatures.literal(BenchSpec.ENTITY));
    values.put("spine_ts", "_c" + ts);
    values.put("spine_c", String.join(", ", c));
    values.put("spine_nulls", String.join(", ", nulls));
    values.put("spine_out", String.join(", ", out));
    values.put("spine_order", String.join(", ", c));
    values.put("purchase", BenchSpec.PURCHASE);
    values.put("success", BenchSpec.SUCCESS);
    return "WITH\n" + events + ",\n"
        + DuckDbFeatures.fill(DuckDbFeatures.template("duckdb_training_set.sql"), values);
  }

  /** The spine's header names, trimmed. */
  private static List<String> spineHeader(Path spine) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(spine, StandardCharsets.UTF_8)) {
      String first = new CsvLines(in).next();
      if (first == null) {
        throw new IllegalArgumentException("the spine " + spine + " has no header line");
      }
      return CsvLines.header(first);
    }
  }
}
