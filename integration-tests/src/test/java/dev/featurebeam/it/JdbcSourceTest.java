package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * {@code batch --source=jdbc:…} on the machine's PostgreSQL and MariaDB against the same rows as a
 * CSV file: an all-text table (loaded by COPY and by LOAD DATA) and a typed one (timestamptz,
 * numeric) give the file run's partitions byte for byte, with the spec's time range pushed into
 * SQL (the upper bound always; the lower one when no feature reads the whole history), and the
 * report records the predicate and counts the rows inside it. An all-text table of values that
 * break the spec quarantines the CSV's records, with the CSV's reasons. Contract breaks stop the run with
 * exit 2 naming the column; a wrong password fails without showing it.
 */
class JdbcSourceTest {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
  private static final String MARIA = "jdbc:mariadb://127.0.0.1:3306/test?user=root";
  private static final String FS = "user_features";
  private static final String FROM = "2025-01-20";
  private static final String TO = "2025-01-24";
  private static final String T = "fb_jdbc_" + ThreadLocalRandom.current().nextInt(1 << 30);
  private static final String COLUMNS = "event_id, user_id, event_type, amount, status, category, ts";

  @TempDir static Path tmp;
  private static Path csv;
  /** Events with malformed values (no broken lines: a table row always has every column). */
  private static Path badCsv;

  @BeforeAll
  static void load() throws Exception {
    // 8000 events of 300 users over 40 days, with duplicates; no malformed lines (a table holds
    // columns, not broken lines).
    csv = Cli.generate(tmp.resolve("events.csv"), Map.of("seed", "11", "events", "8000", "users",
        "300", "days", "40", "startDate", "2025-01-01", "duplicateFraction", "0.03",
        "malformedFraction", "0"));
    assertThat(Files.readAllLines(csv).get(0), equalTo(COLUMNS.replace(" ", "")));
    Path generated = Cli.generate(tmp.resolve("malformed-all.csv"), Map.of("seed", "12", "events",
        "3000", "users", "80", "days", "40", "startDate", "2025-01-01", "duplicateFraction", "0.02",
        "malformedFraction", "0.05"));
    badCsv = tmp.resolve("malformed.csv");
    Files.write(badCsv, Files.readAllLines(generated).stream()
        .filter(line -> csvFields(line).size() == 7).collect(Collectors.toList()));
    try (Connection c = DriverManager.getConnection(PG); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + T + "_text (event_id TEXT, user_id TEXT, event_type TEXT,"
          + " amount TEXT, status TEXT, category TEXT, ts TEXT)");
      try (Reader in = Files.newBufferedReader(csv)) {
        c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + T + "_text FROM STDIN WITH"
            + " (FORMAT csv, HEADER true)", in);
      }
      s.execute("CREATE TABLE " + T + "_bad (event_id TEXT, user_id TEXT, event_type TEXT,"
          + " amount TEXT, status TEXT, category TEXT, ts TEXT)");
      try (Reader in = Files.newBufferedReader(badCsv)) {
        c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + T + "_bad FROM STDIN WITH"
            + " (FORMAT csv, HEADER true)", in);
      }
      s.execute("CREATE TABLE " + T + "_typed AS SELECT event_id, user_id, event_type,"
          + " amount::numeric(12,2) AS amount, status, category, CASE WHEN ts ~ '^[0-9]+$' THEN"
          + " to_timestamp(ts::bigint / 1000.0) ELSE ts::timestamptz END AS ts FROM " + T
          + "_text");
    }
    try (Connection c = DriverManager.getConnection(MARIA + "&allowLocalInfile=true");
        Statement s = c.createStatement()) {
      for (Map.Entry<String, Path> table : Map.of("_text", csv, "_bad", badCsv).entrySet()) {
        s.execute("CREATE TABLE " + T + table.getKey() + " (event_id TEXT, user_id TEXT,"
            + " event_type TEXT, amount TEXT, status TEXT, category TEXT, ts TEXT)");
        s.execute(loadData(table.getValue(), T + table.getKey()));
      }
      s.execute("CREATE TABLE " + T + "_bool (event_id TEXT, user_id TEXT, ts BOOLEAN)");
    }
  }

  @AfterAll
  static void drop() throws Exception {
    try (Connection c = DriverManager.getConnection(PG); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + T + "_text");
      s.execute("DROP TABLE IF EXISTS " + T + "_typed");
      s.execute("DROP TABLE IF EXISTS " + T + "_bad");
    }
    try (Connection c = DriverManager.getConnection(MARIA); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + T + "_text");
      s.execute("DROP TABLE IF EXISTS " + T + "_bad");
      s.execute("DROP TABLE IF EXISTS " + T + "_bool");
    }
  }

  /** MariaDB's LOAD DATA of a CSV file with a header; empty fields are NULL, as in COPY's CSV. */
  static String loadData(Path file, String table) {
    return "LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE " + table + " FIELDS TERMINATED BY"
        + " ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n' IGNORE 1 LINES (@a, @b, @c,"
        + " @d, @e, @f, @g) SET event_id = NULLIF(@a, ''), user_id = NULLIF(@b, ''), event_type ="
        + " NULLIF(@c, ''), amount = NULLIF(@d, ''), status = NULLIF(@e, ''), category ="
        + " NULLIF(@f, ''), ts = NULLIF(@g, '')";
  }

  /** The fields of one line of the generator's CSV (RFC 4180 quoting); null for an empty one. */
  static List<String> csvFields(String line) {
    List<String> fields = new java.util.ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (quoted) {
        if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (ch == '"') {
          quoted = false;
        } else {
          field.append(ch);
        }
      } else if (ch == '"') {
        quoted = true;
        wasQuoted = true;
      } else if (ch == ',') {
        fields.add(field.length() == 0 && !wasQuoted ? null : field.toString());
        field.setLength(0);
        wasQuoted = false;
      } else {
        field.append(ch);
      }
    }
    fields.add(field.length() == 0 && !wasQuoted ? null : field.toString());
    return fields;
  }

  private static long rows(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static SortedMap<String, String> parquet(Path out) throws Exception {
    return Cli.only(Cli.snapshot(Cli.versionDir(out, FS, 1)), Cli::isParquetPart);
  }

  private static Cli.Result jdbcBatch(Path spec, String url, Path out, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("batch", "--spec=" + spec,
        "--source=" + url, "--out=" + out, "--runnerConfig=" + Cli.runnerConfig(Cli.DIRECT),
        "--progress=false", "--from=" + FROM, "--to=" + TO));
    args.addAll(List.of(extra));
    return Cli.run(args.toArray(new String[0]));
  }

  @Test
  void aTableGivesTheFilesPartitionsByteForByte() throws Exception {
    Path spec = Cli.fixture("user_features.yaml");
    Path fileOut = tmp.resolve("out-file");
    Cli.batch(Cli.DIRECT, spec, csv, fileOut, "--from=" + FROM, "--to=" + TO).assertExit(0);
    SortedMap<String, String> expected = parquet(fileOut);
    assertThat(expected.size(), is(5));

    Path pgText = tmp.resolve("out-pg-text");
    jdbcBatch(spec, PG, pgText, "--table=" + T + "_text").assertExit(0);
    assertThat(parquet(pgText), equalTo(expected));
    Path pgTyped = tmp.resolve("out-pg-typed");
    jdbcBatch(spec, PG, pgTyped, "--table=" + T + "_typed", "--jdbcPartitions=3").assertExit(0);
    assertThat(parquet(pgTyped), equalTo(expected));
    Path maria = tmp.resolve("out-maria");
    jdbcBatch(spec, MARIA, maria, "--query=SELECT * FROM " + T + "_text").assertExit(0);
    assertThat(parquet(maria), equalTo(expected));

    // The typed table's run pushed its end into SQL (whole-history features: no start), and read
    // exactly the rows before the end and those without a time.
    JsonNode report = Cli.readJson(Cli.runDir(pgTyped, FS, 1, FROM, TO).resolve("report.json"));
    assertThat(report.path("database_source").path("predicate").asText(),
        equalTo("(\"ts\" < 2025-01-25T00:00:00Z) OR \"ts\" IS NULL"));
    assertThat(report.path("database_source").path("url").asText(), equalTo(PG));
    long inside = rows(PG, "SELECT COUNT(*) FROM " + T + "_typed WHERE ts < '2025-01-25T00:00:00Z'"
        + " OR ts IS NULL");
    assertThat(inside, is(not(rows(PG, "SELECT COUNT(*) FROM " + T + "_typed"))));
    assertThat(report.path("counts").path("read").asLong(), is(inside));
  }

  @Test
  void withoutWholeHistoryFeaturesTheStartIsPushedDownToo() throws Exception {
    // The example spec without its two whole-history features, with dedup_within: 2d.
    String text = Files.readString(Cli.fixture("user_features.yaml"));
    String windowed = text.lines()
        .filter(l -> !l.contains("last_event_type") && !l.contains("days_since_last_purchase"))
        .map(l -> l.startsWith("dedup_key:") ? l + "\ndedup_within: 2d" : l)
        .collect(Collectors.joining("\n")) + "\n";
    Path spec = Files.writeString(tmp.resolve("windowed.yaml"), windowed);
    Path fileOut = tmp.resolve("out-windowed-file");
    Cli.batch(Cli.DIRECT, spec, csv, fileOut, "--from=" + FROM, "--to=" + TO).assertExit(0);
    Path pg = tmp.resolve("out-windowed-pg");
    jdbcBatch(spec, PG, pg, "--table=" + T + "_typed", "--jdbcPartitions=2").assertExit(0);
    assertThat(parquet(pg), equalTo(parquet(fileOut)));
    JsonNode report = Cli.readJson(Cli.runDir(pg, FS, 1, FROM, TO).resolve("report.json"));
    // 30 days of the longest window before 2025-01-21T00:00Z, and 2 days of dedup_within more.
    assertThat(report.path("database_source").path("predicate").asText(),
        equalTo("(\"ts\" >= 2024-12-20T00:00:00Z AND \"ts\" < 2025-01-25T00:00:00Z) OR \"ts\""
            + " IS NULL"));
    long inside = rows(PG, "SELECT COUNT(*) FROM " + T + "_typed WHERE (ts >= '2024-12-20T00:00:00Z'"
        + " AND ts < '2025-01-25T00:00:00Z') OR ts IS NULL");
    assertThat(report.path("counts").path("read").asLong(), is(inside));
  }

  @Test
  void anAllTextTableQuarantinesWhatTheCsvDoes() throws Exception {
    Path spec = Cli.fixture("user_features.yaml");
    Path fileOut = tmp.resolve("out-bad-file");
    Cli.batch(Cli.DIRECT, spec, badCsv, fileOut, "--from=" + FROM, "--to=" + TO).assertExit(0);
    List<String> header = csvFields(Files.readAllLines(badCsv).get(0));
    // Per quarantined record: its reason and its fields, from the CSV line and the row's JSON.
    List<String> expected = new java.util.ArrayList<>();
    for (JsonNode q : Cli.readJsonLines(Cli.runDir(fileOut, FS, 1, FROM, TO)
        .resolve("quarantine.jsonl"))) {
      List<String> values = csvFields(q.path("payload").asText());
      Map<String, String> fields = new java.util.TreeMap<>();
      for (int i = 0; i < header.size(); i++) {
        fields.put(header.get(i), String.valueOf(values.get(i)));
      }
      expected.add(q.path("reason").asText() + " " + fields);
    }
    expected.sort(null);
    assertThat(expected.stream().map(e -> e.substring(0, e.indexOf(' '))).distinct().sorted()
        .collect(Collectors.toList()), equalTo(List.of("BAD_TIMESTAMP:ts", "BAD_TYPE:amount",
        "MISSING:user_id", "OUT_OF_RANGE:amount")));
    for (String url : List.of(PG, MARIA)) {
      Path out = tmp.resolve("out-bad-" + (url.equals(PG) ? "pg" : "maria"));
      jdbcBatch(spec, url, out, "--table=" + T + "_bad").assertExit(0);
      assertThat(url, parquet(out), equalTo(parquet(fileOut)));
      List<String> got = new java.util.ArrayList<>();
      for (JsonNode q : Cli.readJsonLines(Cli.runDir(out, FS, 1, FROM, TO)
          .resolve("quarantine.jsonl"))) {
        JsonNode row = JSON.readTree(q.path("payload").asText());
        Map<String, String> fields = new java.util.TreeMap<>();
        row.fields().forEachRemaining(f -> fields.put(f.getKey(),
            f.getValue().isNull() ? "null" : f.getValue().asText()));
        got.add(q.path("reason").asText() + " " + fields);
      }
      got.sort(null);
      assertThat(url, got, equalTo(expected));
    }
  }

  @Test
  void contractBreaksAndBadCredentialsStopTheRunClearly() throws Exception {
    Path spec = Cli.fixture("user_features.yaml");
    Cli.Result bool = jdbcBatch(spec, MARIA, tmp.resolve("out-bool"), "--table=" + T + "_bool")
        .assertExit(2);
    assertThat(bool.err(), allOf(containsString("column 'ts'"), containsString("declared timestamp")));
    Cli.Result dropped = jdbcBatch(spec, PG, tmp.resolve("out-dropped"),
        "--query=SELECT event_id, user_id, amount FROM " + T + "_typed").assertExit(2);
    assertThat(dropped.err(), containsString("required field 'ts'"));
    Cli.Result quote = jdbcBatch(spec, PG, tmp.resolve("out-quote"),
        "--table=" + T + "_typed\"; DROP TABLE " + T + "_typed; --").assertExit(2);
    assertThat(quote.err(), containsString("is not a table name"));
    assertThat(rows(PG, "SELECT COUNT(*) FROM " + T + "_typed"), greaterThan(0L));
    // MariaDB's root has no password here: a wrong one is refused, and never printed.
    Cli.Result wrong = jdbcBatch(spec, MARIA + "&password=s3cr3t-Pw", tmp.resolve("out-pw"),
        "--table=" + T + "_text");
    assertThat(wrong.describe(), wrong.exit(), is(2));
    assertThat(wrong.err(), allOf(containsString("Access denied"), not(containsString("s3cr3t"))));
    assertThat(wrong.out(), not(containsString("s3cr3t")));
  }
}
