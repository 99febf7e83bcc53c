package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * A million raw events loaded into PostgreSQL (COPY, then typed: timestamptz and numeric) and
 * MariaDB (LOAD DATA into DATETIME(3) and DECIMAL columns): a backfill from each, read in parallel
 * time ranges with both bounds pushed into SQL, publishes the partitions the same rows give as a
 * CSV file, byte for byte, and its report counts exactly the rows inside the pushed-down bounds.
 */
class JdbcAtScaleTest {
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
  private static final String MARIA = "jdbc:mariadb://127.0.0.1:3306/test?user=root";
  private static final String FS = "user_features";
  private static final long EVENTS = 1_000_000;
  // 60 days of events; with the longest window of 30 days and dedup_within 2d the run needs events
  // from 30 + 2 days before its first as-of instant (2025-02-21T00:00Z) on: both bounds cut rows.
  private static final String FROM = "2025-02-20";
  private static final String TO = "2025-02-22";
  private static final String START = "2025-01-20T00:00:00Z";
  private static final String END = "2025-02-23T00:00:00Z";
  private static final String T = "fb_scale_" + ThreadLocalRandom.current().nextInt(1 << 30);

  @TempDir static Path tmp;
  private static Path csv;
  private static Path spec;
  private static SortedMap<String, String> expected;

  @BeforeAll
  static void load() throws Exception {
    csv = Cli.generate(tmp.resolve("events.csv"), Map.of("seed", "23", "events",
        String.valueOf(EVENTS), "users", "20000", "days", "60", "startDate", "2025-01-01",
        "duplicateFraction", "0.01", "malformedFraction", "0"));
    // The example spec without its whole-history features, with dedup_within: 2d.
    String windowed = Files.readString(Cli.fixture("user_features.yaml")).lines()
        .filter(l -> !l.contains("last_event_type") && !l.contains("days_since_last_purchase"))
        .map(l -> l.startsWith("dedup_key:") ? l + "\ndedup_within: 2d" : l)
        .collect(Collectors.joining("\n")) + "\n";
    spec = Files.writeString(tmp.resolve("windowed.yaml"), windowed);

    try (Connection c = DriverManager.getConnection(PG); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + T + "_raw (event_id TEXT, user_id TEXT, event_type TEXT,"
          + " amount TEXT, status TEXT, category TEXT, ts TEXT)");
      try (Reader in = Files.newBufferedReader(csv)) {
        long copied = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + T
            + "_raw FROM STDIN WITH (FORMAT csv, HEADER true)", in);
        assertThat(copied, greaterThan(EVENTS));
      }
      s.execute("CREATE TABLE " + T + " AS SELECT event_id, user_id, event_type,"
          + " amount::numeric(12,2) AS amount, status, category, CASE WHEN ts ~ '^[0-9]+$' THEN"
          + " to_timestamp(ts::bigint / 1000.0) ELSE ts::timestamptz END AS ts FROM " + T
          + "_raw");
      s.execute("DROP TABLE " + T + "_raw");
    }
    // MariaDB has no zoned type: the rows go in as UTC DATETIME(3), read in the spec's
    // source_timezone (UTC), through a tab-separated copy with the times normalized.
    Path tsv = tmp.resolve("events-utc.tsv");
    try (Stream<String> lines = Files.lines(csv);
        BufferedWriter w = Files.newBufferedWriter(tsv, StandardCharsets.UTF_8)) {
      for (String line : (Iterable<String>) lines.skip(1)::iterator) {
        List<String> f = JdbcSourceTest.csvFields(line);
        f.set(6, utc(f.get(6)));
        w.write(f.stream().map(v -> v == null ? "" : v).collect(Collectors.joining("\t")));
        w.write('\n');
      }
    }
    try (Connection c = DriverManager.getConnection(MARIA + "&allowLocalInfile=true");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + T + " (event_id TEXT, user_id TEXT, event_type TEXT,"
          + " amount DECIMAL(12,2), status TEXT, category TEXT, ts DATETIME(3), INDEX (ts))");
      s.execute("LOAD DATA LOCAL INFILE '" + tsv + "' INTO TABLE " + T + " FIELDS TERMINATED BY"
          + " '\\t' LINES TERMINATED BY '\\n' (@a, @b, @c, @d, @e, @f, @g) SET event_id ="
          + " NULLIF(@a, ''), user_id = NULLIF(@b, ''), event_type = NULLIF(@c, ''), amount ="
          + " NULLIF(@d, ''), status = NULLIF(@e, ''), category = NULLIF(@f, ''), ts ="
          + " NULLIF(@g, '')");
    }
    Path fileOut = tmp.resolve("out-file");
    Cli.batch(Cli.FLINK_LOCAL, spec, csv, fileOut, "--from=" + FROM, "--to=" + TO)
        .assertExit(0);
    expected = parquet(fileOut);
    assertThat(expected.size(), is(3));
  }

  @AfterAll
  static void drop() throws Exception {
    try (Connection c = DriverManager.getConnection(PG); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + T + "_raw");
      s.execute("DROP TABLE IF EXISTS " + T);
    }
    try (Connection c = DriverManager.getConnection(MARIA); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + T);
    }
  }

  /** A generated time (ISO with Z or an offset, or epoch millis) as UTC DATETIME(3) text. */
  private static String utc(String ts) {
    Instant at = ts.matches("[0-9]+") ? Instant.ofEpochMilli(Long.parseLong(ts))
        : OffsetDateTime.parse(ts).toInstant();
    return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").format(
        at.atOffset(ZoneOffset.UTC));
  }

  private static SortedMap<String, String> parquet(Path out) throws Exception {
    return Cli.only(Cli.snapshot(Cli.versionDir(out, FS, 1)), Cli::isParquetPart);
  }

  private static long rows(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static JsonNode backfill(String url, String name, int partitions) throws Exception {
    Path out = tmp.resolve("out-" + name);
    Cli.Result r = Cli.run("batch", "--spec=" + spec, "--source=" + url, "--table=" + T,
        "--jdbcPartitions=" + partitions, "--out=" + out,
        "--runnerConfig=" + Cli.runnerConfig(Cli.FLINK_LOCAL), "--progress=false",
        "--from=" + FROM, "--to=" + TO);
    r.assertExit(0);
    assertThat(name, parquet(out), equalTo(expected));
    return Cli.readJson(Cli.runDir(out, FS, 1, FROM, TO).resolve("report.json"));
  }

  @Test
  void postgresInFourRangesGivesTheFilesPartitions() throws Exception {
    JsonNode report = backfill(PG, "pg", 4);
    assertThat(report.path("database_source").path("predicate").asText(), equalTo("(\"ts\" >= "
        + START + " AND \"ts\" < " + END + ") OR \"ts\" IS NULL"));
    assertThat(report.path("database_source").path("queries").asInt(), is(4));
    long inside = rows(PG, "SELECT COUNT(*) FROM " + T + " WHERE (ts >= '" + START + "' AND ts < '"
        + END + "') OR ts IS NULL");
    assertThat(inside, lessThan(rows(PG, "SELECT COUNT(*) FROM " + T)));
    assertThat(report.path("counts").path("read").asLong(), is(inside));
  }

  @Test
  void mariadbInTwoRangesGivesTheFilesPartitions() throws Exception {
    JsonNode report = backfill(MARIA, "maria", 2);
    assertThat(report.path("database_source").path("predicate").asText(), equalTo("(`ts` >= "
        + START + " AND `ts` < " + END + ") OR `ts` IS NULL"));
    long inside = rows(MARIA, "SELECT COUNT(*) FROM " + T + " WHERE (ts >= '"
        + START.replace("T", " ").replace("Z", "") + "' AND ts < '"
        + END.replace("T", " ").replace("Z", "") + "') OR ts IS NULL");
    assertThat(inside, lessThan(rows(MARIA, "SELECT COUNT(*) FROM " + T)));
    assertThat(report.path("counts").path("read").asLong(), is(inside));
  }
}
