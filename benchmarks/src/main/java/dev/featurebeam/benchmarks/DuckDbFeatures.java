package dev.featurebeam.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * benchmarks/bench_spec.yaml as ONE DuckDB SQL query (the resources {@code duckdb_events.sql}, the
 * clean events, then {@code duckdb_features.sql}), run in an in-memory DuckDB over the same CSV
 * file FeatureBeam reads, writing the rows ordered by as_of_date and user_id as CSV with
 * {@link BenchSpec#COLUMNS}.
 *
 * <pre>
 * java -cp ... dev.featurebeam.benchmarks.DuckDbFeatures --source=events.csv --out=rows.csv \
 *     --from=2025-01-31 --to=2025-04-30 [--threads=N] [--memoryLimit=8GB] [--printSql]
 * </pre>
 *
 * <p>DuckDB uses every core unless {@code --threads} says otherwise. {@code --printSql} prints the
 * query with its placeholders filled in and exits.
 */
public final class DuckDbFeatures {
  private DuckDbFeatures() {}

  /** White space the validator strips: the ASCII part of Java's String.strip(). */
  private static final String WHITE_SPACE = " \t\n\u000B\f\r\u001C\u001D\u001E\u001F";

  public static void main(String[] args) throws Exception {
    BenchArgs a;
    LocalDate[] range;
    try {
      a = BenchArgs.parse(args);
      range = a.range();
      a.required("source");
      if (!a.flag("printSql")) {
        a.required("out");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("DuckDbFeatures: " + e.getMessage());
      System.err.println("usage: DuckDbFeatures --source=EVENTS.csv --out=ROWS.csv --from=YYYY-MM-DD"
          + " --to=YYYY-MM-DD [--threads=N] [--memoryLimit=SIZE] [--printSql]");
      System.exit(2);
      return;
    }
    Path source = Path.of(a.required("source"));
    try {
      String sql = query(source, range[0], range[1]);
      if (a.flag("printSql")) {
        System.out.println(sql);
        return;
      }
      run(source, Path.of(a.required("out")), range[0], range[1], a.get("threads", null),
          a.get("memoryLimit", null), System.err);
    } catch (IllegalArgumentException e) {
      System.err.println("DuckDbFeatures: " + e.getMessage());
      System.exit(2);
    }
  }

  /** Runs the query and writes the rows to {@code out}; returns the number of rows. */
  static long run(Path source, Path out, LocalDate from, LocalDate to, String threads,
      String memoryLimit, PrintStream log) throws IOException, SQLException {
    long t0 = System.nanoTime();
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    String sql = query(source, from, to);
    long rows;
    String version;
    try (Connection c = open(); Statement st = c.createStatement()) {
      version = configure(st, threads, memoryLimit);
      long t1 = System.nanoTime();
      if (sql == null) {
        Files.writeString(out, BenchSpec.header() + "\n", StandardCharsets.UTF_8);
        rows = 0;
      } else {
        rows = copy(st, "COPY (" + sql + ") TO " + literal(out.toString())
            + " (FORMAT csv, HEADER true, DELIMITER ',')");
      }
      long t2 = System.nanoTime();
      log.printf(java.util.Locale.ROOT,
          "duckdb: %,d rows to %s; %.2f s (query %.2f s) on DuckDB %s%n",
          rows, out, (t2 - t0) / 1e9, (t2 - t1) / 1e9, version);
    }
    return rows;
  }

  /** An in-memory DuckDB. */
  static Connection open() throws SQLException {
    return DriverManager.getConnection("jdbc:duckdb:", new Properties());
  }

  /**
   * Sets DuckDB's threads and memory limit where not null; returns its version and thread count
   * for the log line.
   */
  static String configure(Statement st, String threads, String memoryLimit) throws SQLException {
    if (threads != null) {
      st.execute("SET threads = " + Integer.parseInt(threads));
    }
    if (memoryLimit != null) {
      st.execute("SET memory_limit = " + literal(memoryLimit));
    }
    try (ResultSet rs = st.executeQuery("SELECT version(), current_setting('threads')")) {
      rs.next();
      return rs.getString(1) + ", " + rs.getString(2) + " threads";
    }
  }

  /** Runs a COPY statement; returns the rows it wrote. */
  static long copy(Statement st, String sql) throws SQLException {
    boolean hasResult = st.execute(sql);
    if (hasResult) {
      try (ResultSet rs = st.getResultSet()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
    return st.getUpdateCount();
  }

  /**
   * The query for this source and range, or null for a file with no header line (no rows): the
   * clean events ({@link #eventsSql}), then duckdb_features.sql.
   */
  static String query(Path source, LocalDate from, LocalDate to) throws IOException {
    String events = eventsSql(source);
    if (events == null) {
      return null;
    }
    Map<String, String> values = new LinkedHashMap<>();
    values.put("purchase", BenchSpec.PURCHASE);
    values.put("success", BenchSpec.SUCCESS);
    values.put("end_ms", Long.toString((to.toEpochDay() + 1) * BenchSpec.DAY_MS));
    values.put("from_day", Long.toString(from.toEpochDay()));
    values.put("to_day", Long.toString(to.toEpochDay()));
    return "WITH\n" + events + ",\n" + fill(template("duckdb_features.sql"), values);
  }

  /**
   * The common table expressions of duckdb_events.sql filled in for this source: every record
   * read, validated and de-duplicated as FeatureBeam does, ending in {@code events} (user_id,
   * event_type, amount, status, ms), without the leading WITH; or null for a file with no header
   * line. The CSV columns are declared from the file's own header, so their order does not matter.
   * DuckDbTrainingSet starts its query with the same text.
   */
  static String eventsSql(Path source) throws IOException {
    List<String> header = readHeader(source);
    if (header == null) {
      return null;
    }
    for (String required : List.of("event_id", "user_id", "ts")) {
      if (!header.contains(required)) {
        throw new IllegalArgumentException(
            "the CSV header of " + source + " has no column '" + required + "'");
      }
    }
    StringBuilder columns = new StringBuilder("{");
    for (int i = 0; i < header.size(); i++) {
      columns.append(i > 0 ? ", " : "").append(literal(header.get(i))).append(": 'VARCHAR'");
    }
    columns.append('}');
    List<String> raw = new ArrayList<>();
    for (String f : BenchSpec.FIELDS) {
      raw.add(header.contains(f) ? ident(f) : "NULL::VARCHAR AS " + ident(f));
    }
    Map<String, String> values = new LinkedHashMap<>();
    values.put("raw_columns", String.join(", ", raw));
    values.put("source", literal(source.toAbsolutePath().toString()));
    values.put("columns", columns.toString());
    values.put("min_event_ms", Long.toString(BenchSpec.MIN_EVENT_MILLIS));
    values.put("max_event_ms", Long.toString(BenchSpec.MAX_EVENT_MILLIS));
    String sql = template("duckdb_events.sql");
    for (String f : BenchSpec.FIELDS) {
      sql = sql.replace("${strip(" + f + ")}", strip(ident(f)));
    }
    for (String f : List.of("v.event_id", "v.user_id", "v.event_type", "v.status", "v.category")) {
      sql = sql.replace("${json(" + f + ")}",
          "('\"' || replace(replace(" + f + ", '\\', '\\\\'), '\"', '\\\"') || '\"')");
    }
    return fill(sql, values).stripTrailing();
  }

  /**
   * SQL for the text expression {@code c} stripped of surrounding white space as the validator
   * strips it, null when nothing is left. Every character in WHITE_SPACE sorts before or as ' ':
   * trim only values that need it (trim() with a set of characters is slow).
   */
  static String strip(String c) {
    return "NULLIF(CASE WHEN " + c + "[1] <= ' ' OR " + c + "[-1] <= ' ' THEN trim(" + c + ", "
        + literal(WHITE_SPACE) + ") ELSE " + c + " END, '')";
  }

  /** Replaces every {@code ${key}} of the template by its value. */
  static String fill(String sql, Map<String, String> values) {
    for (Map.Entry<String, String> e : values.entrySet()) {
      sql = sql.replace("${" + e.getKey() + "}", e.getValue());
    }
    return sql;
  }

  /**
   * For tests: the query's parsing steps only, giving event_id, amount (null when absent or bad)
   * and ms (null when bad) for every record with the right column count.
   */
  static String parseQuery(Path source) throws IOException {
    String sql = query(source, LocalDate.of(2025, 1, 1), LocalDate.of(2025, 1, 1));
    int end = sql.indexOf("-- (end of parsing)");
    String ctes = sql.substring(0, end).stripTrailing();
    if (ctes.endsWith(",")) {
      ctes = ctes.substring(0, ctes.length() - 1);
    }
    return ctes + "\nSELECT event_id, amount_text, amount, ms FROM timed";
  }

  /** A SQL resource of this package. */
  static String template(String name) throws IOException {
    try (InputStream in = DuckDbFeatures.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException(name + " is missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The file's header names (trimmed), or null for a file without a non-blank line. */
  private static List<String> readHeader(Path source) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(source, StandardCharsets.UTF_8)) {
      String first = new CsvLines(in).next();
      return first == null ? null : CsvLines.header(first);
    }
  }

  static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  static String ident(String s) {
    return "\"" + s.replace("\"", "\"\"") + "\"";
  }
}
