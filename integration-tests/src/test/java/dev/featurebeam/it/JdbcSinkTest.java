package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import dev.featurebeam.io.sink.StoreFaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code batch --jdbcSink=…} on the machine's PostgreSQL and MariaDB: after a run, a rerun and an
 * overlapping backfill the table holds each (entity, as_of_date) once, with exactly the values of
 * the published Parquet partitions ({@code featurebeam show}); a run that fails (the pipeline, the
 * quality gate, the sink inside its transaction, or a kill -9 there) leaves the table exactly as it
 * was; a table that cannot hold the partitions stops the run before any work (exit 2); the
 * password never shows in the output or the report.
 */
class JdbcSinkTest {
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
  private static final String MARIA = "jdbc:mariadb://127.0.0.1:3306/test?user=root";
  private static final String FS = "sink_it_" + ThreadLocalRandom.current().nextInt(1 << 30);
  private static final String TABLE = FS + "_v1";
  /** PostgreSQL here trusts loopback: any password is accepted, so it must never be shown. */
  private static final String SECRET = "s3cr3t-Sink-pw";

  @TempDir static Path tmp;
  private static Path spec;
  private static Path gated;
  private static Path eventsA;
  private static Path eventsB;

  @BeforeAll
  static void inputs() throws Exception {
    String text = Files.readString(Cli.fixture("user_features_no_rowcount.yaml"))
        .replace("feature_set: user_features", "feature_set: " + FS);
    spec = Files.writeString(tmp.resolve("spec.yaml"), text);
    // The same spec with a bound every date breaks: the quality gate keeps each partition out.
    gated = Files.writeString(tmp.resolve("gated.yaml"),
        text.replace("between: [0, 100000]", "between: [0, 1]"));
    eventsA = Cli.generate(tmp.resolve("a.csv"), Map.of("seed", "8", "events", "600",
        "users", "30", "days", "12", "startDate", "2025-01-01"));
    eventsB = Cli.generate(tmp.resolve("b.csv"), Map.of("seed", "9", "events", "700",
        "users", "35", "days", "12", "startDate", "2025-01-01"));
  }

  @AfterEach
  void noFaults() {
    System.clearProperty(StoreFaults.PROPERTY);
  }

  @AfterAll
  static void drop() throws Exception {
    for (String url : List.of(PG, MARIA)) {
      try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
        s.execute("DROP TABLE IF EXISTS " + TABLE);
        s.execute("DROP TABLE IF EXISTS " + FS + "_v2");
      }
    }
  }

  private static String url(String db) {
    return db.equals("postgresql") ? PG : MARIA;
  }

  private static Cli.Result batch(String db, Path specFile, Path events, Path out, String from,
      String to) {
    return Cli.batch(Cli.DIRECT, specFile, events, out, "--from=" + from, "--to=" + to,
        "--jdbcSink=" + sinkUrl(db));
  }

  /** The sink's URL as given: with a password for PostgreSQL, which must never show. */
  private static String sinkUrl(String db) {
    return db.equals("postgresql") ? PG + "&password=" + SECRET : MARIA;
  }

  /** Every row of the table as the CSV line {@code show} prints for it, keyed by entity and date. */
  private static TreeMap<String, String> table(String db) throws Exception {
    TreeMap<String, String> rows = new TreeMap<>();
    try (Connection c = DriverManager.getConnection(url(db)); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT * FROM " + TABLE)) {
      ResultSetMetaData meta = r.getMetaData();
      while (r.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          Object v = r.getObject(i);
          values.add(v == null ? "" : v.toString());
        }
        String key = values.get(0) + "@" + values.get(1);
        assertThat("each (entity, as_of_date) once: " + key, rows.containsKey(key), is(false));
        rows.put(key, String.join(",", values));
      }
    }
    return rows;
  }

  /** What the store publishes for these dates, as {@link #table} shows rows. */
  private static TreeMap<String, String> parquet(Path out, String... dates) {
    TreeMap<String, String> rows = new TreeMap<>();
    for (String date : dates) {
      Cli.Result shown = Cli.show(Cli.partitionDir(out, FS, 1, date)).assertExit(0);
      List<String> lines = shown.outLines();
      for (String line : lines.subList(1, lines.size())) {
        String[] v = line.split(",", -1);
        rows.put(v[0] + "@" + v[1], line);
      }
    }
    return rows;
  }

  private static TreeMap<String, String> ofDate(TreeMap<String, String> rows, String date) {
    TreeMap<String, String> out = new TreeMap<>();
    rows.forEach((k, v) -> {
      if (k.endsWith("@" + date)) {
        out.put(k, v);
      }
    });
    return out;
  }

  private static void assertNoSecret(Cli.Result r) {
    assertThat(r.out() + r.err(), not(containsString(SECRET)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "mariadb"})
  void theTableHoldsThePublishedPartitionsOnceAndFailedRunsLeaveItAsItWas(String db)
      throws Exception {
    Path out = tmp.resolve("out-" + db);
    Cli.Result run = batch(db, spec, eventsA, out, "2025-01-08", "2025-01-10").assertExit(0);
    assertNoSecret(run);
    assertThat(run.out(), containsString("3 dates replaced"));
    TreeMap<String, String> afterRun = table(db);
    assertThat(afterRun, equalTo(parquet(out, "2025-01-08", "2025-01-09", "2025-01-10")));
    assertThat(afterRun.size() > 30, is(true));

    // The report records the sink without its password, and the rows of each date.
    Path reportFile = Cli.runDir(out, FS, 1, "2025-01-08", "2025-01-10").resolve("report.json");
    assertThat(Files.readString(reportFile), not(containsString(SECRET)));
    JsonNode sink = Cli.readJson(reportFile).path("jdbc_sink");
    assertThat(sink.path("url").asText(), equalTo(url(db)));
    assertThat(sink.path("table").asText(), equalTo(TABLE));
    assertThat(sink.path("dates").get(1).path("as_of_date").asText(), equalTo("2025-01-09"));
    assertThat(sink.path("dates").get(1).path("rows").asLong(),
        is((long) ofDate(afterRun, "2025-01-09").size()));

    // A rerun changes nothing.
    batch(db, spec, eventsA, out, "2025-01-08", "2025-01-10").assertExit(0);
    assertThat(table(db), equalTo(afterRun));

    // An overlapping backfill over other events replaces 09..10 and adds 11; 08 keeps run A's.
    batch(db, spec, eventsB, out, "2025-01-09", "2025-01-11").assertExit(0);
    TreeMap<String, String> afterBackfill = table(db);
    assertThat(afterBackfill,
        equalTo(parquet(out, "2025-01-08", "2025-01-09", "2025-01-10", "2025-01-11")));
    assertThat(ofDate(afterBackfill, "2025-01-08"), equalTo(ofDate(afterRun, "2025-01-08")));
    assertThat(ofDate(afterBackfill, "2025-01-09"), not(equalTo(ofDate(afterRun, "2025-01-09"))));

    // The pipeline fails: nothing is mirrored.
    System.setProperty(StoreFaults.PROPERTY, StoreFaults.AFTER_QUARANTINE_RUNS + ":throw");
    batch(db, spec, eventsA, out, "2025-01-09", "2025-01-11").assertExit(1);
    assertThat(table(db), equalTo(afterBackfill));

    // The quality gate keeps every date out: the table is not touched.
    System.clearProperty(StoreFaults.PROPERTY);
    batch(db, gated, eventsA, out, "2025-01-09", "2025-01-11").assertExit(3);
    assertThat(table(db), equalTo(afterBackfill));

    // The sink fails inside the first date's transaction, after the partitions are published:
    // exit 1 naming the date, and the table is exactly as it was.
    System.setProperty(StoreFaults.PROPERTY,
        StoreFaults.SINK_BEFORE_COMMIT + "@2025-01-09:throw");
    Cli.Result failed = batch(db, spec, eventsA, out, "2025-01-09", "2025-01-11").assertExit(1);
    assertNoSecret(failed);
    assertThat(failed.err(), allOf(containsString("as_of_date=2025-01-09 was not replaced"),
        containsString("a rerun of the range mirrors them again")));
    assertThat(table(db), equalTo(afterBackfill));
    assertThat(parquet(out, "2025-01-09"), not(equalTo(ofDate(afterBackfill, "2025-01-09"))));

    // Killed (as kill -9 does) inside the second date's transaction, run A's events against the
    // table's run B rows: the first date is replaced, the second is as it was (the database
    // rolls back the dropped connection's transaction).
    System.clearProperty(StoreFaults.PROPERTY);
    Cli.Result killed = Child.start(tmp.resolve("child-" + db),
        Map.of(StoreFaults.PROPERTY, StoreFaults.SINK_BEFORE_COMMIT + "@2025-01-10:halt"),
        Cli.batchArgs(Cli.DIRECT, spec, eventsA, out, "--from=2025-01-09", "--to=2025-01-11",
            "--jdbcSink=" + sinkUrl(db))).await(180);
    assertThat(killed.describe(), killed.exit(), is(137));
    TreeMap<String, String> afterKill = table(db);
    assertThat(ofDate(afterKill, "2025-01-09"), equalTo(parquet(out, "2025-01-09")));
    assertThat(ofDate(afterKill, "2025-01-10"), equalTo(ofDate(afterBackfill, "2025-01-10")));
    assertThat(parquet(out, "2025-01-10"), not(equalTo(ofDate(afterBackfill, "2025-01-10"))));

    // The next run mirrors the store again.
    batch(db, spec, eventsA, out, "2025-01-09", "2025-01-11").assertExit(0);
    assertThat(table(db),
        equalTo(parquet(out, "2025-01-08", "2025-01-09", "2025-01-10", "2025-01-11")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "mariadb"})
  void aTableThatCannotHoldThePartitionsStopsTheRunBeforeAnyWork(String db) throws Exception {
    Path v2 = Files.writeString(tmp.resolve("v2-" + db + ".yaml"),
        Files.readString(spec).replace("version: 1", "version: 2"));
    try (Connection c = DriverManager.getConnection(url(db)); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + FS + "_v2");
      s.execute("CREATE TABLE " + FS + "_v2 (user_id VARCHAR(50) NOT NULL, as_of_date DATE NOT"
          + " NULL, purchase_count_7d TEXT, PRIMARY KEY (user_id, as_of_date))");
    }
    Path out = tmp.resolve("out-v2-" + db);
    Cli.Result refused = Cli.batch(Cli.DIRECT, v2, eventsA, out, "--asOfDate=2025-01-09",
        "--jdbcSink=" + sinkUrl(db)).assertExit(2);
    assertNoSecret(refused);
    assertThat(refused.err(), allOf(containsString("table " + FS + "_v2 cannot hold"),
        containsString("purchase_count_7d")));
    assertThat(Cli.partitionFolders(out), equalTo(List.of()));

    // An unreachable database is a bad argument too, named without its password.
    Cli.Result unreachable = Cli.batch(Cli.DIRECT, spec, eventsA, tmp.resolve("out-down-" + db),
        "--asOfDate=2025-01-09", "--jdbcSink=jdbc:postgresql://127.0.0.1:1/test?user=x&password="
            + SECRET).assertExit(2);
    assertNoSecret(unreachable);
    assertThat(unreachable.err(), containsString("--jdbcSink=jdbc:postgresql://127.0.0.1:1/test"));

    // So are a sink that is not a JDBC URL and a password variable that is not set.
    Cli.Result notJdbc = Cli.batch(Cli.DIRECT, spec, eventsA, tmp.resolve("out-nojdbc-" + db),
        "--asOfDate=2025-01-09", "--jdbcSink=postgresql://127.0.0.1:5432/test").assertExit(2);
    assertThat(notJdbc.err(), containsString("--jdbcSink needs a JDBC URL"));
    Cli.Result noVar = Cli.batch(Cli.DIRECT, spec, eventsA, tmp.resolve("out-novar-" + db),
        "--asOfDate=2025-01-09", "--jdbcSink=" + url(db),
        "--jdbcSinkPasswordEnv=FB_SINK_NO_SUCH_VARIABLE").assertExit(2);
    assertThat(noVar.err(), containsString("--jdbcSinkPasswordEnv=FB_SINK_NO_SUCH_VARIABLE: no"
        + " such environment variable"));
  }
}
