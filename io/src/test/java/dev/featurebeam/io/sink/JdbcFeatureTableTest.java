package dev.featurebeam.io.sink;

import static dev.featurebeam.io.sink.SinkFixtures.D1;
import static dev.featurebeam.io.sink.SinkFixtures.D2;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.io.source.JdbcTarget;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JDBC feature table on the machine's PostgreSQL and MariaDB: created from the spec with the
 * partition's columns, each date replaced from its published Parquet partition so that the table
 * holds exactly the partition's rows (values compared column by column), a replaced date that no
 * longer has an entity loses it, a failure or a pause before the commit leaves the date's rows as
 * they were (also to a concurrent reader), and a table that cannot hold the partitions is refused
 * naming what is wrong.
 */
class JdbcFeatureTableTest {
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
  private static final String MARIA = "jdbc:mariadb://127.0.0.1:3306/test?user=root";
  private static final String FS = "sink_io_" + ThreadLocalRandom.current().nextInt(1 << 30);
  /** The fixture's columns under a feature set of this test's own: the table's name. */
  private static final FeatureSpec SPEC =
      SpecParser.parse(SinkFixtures.SPEC_TEXT.replace("feature_set: user_features",
          "feature_set: " + FS));
  private static final List<String> TABLES = List.of(FS + "_v1", FS + "_v2", FS + "_v3");

  @TempDir static Path tmp;
  private static Path first;
  private static Path second;

  @BeforeAll
  static void partitions() {
    // First run: u1..u4 on both dates. Second run of D1: u1 changed, u2 gone, u9 and U9 new
    // (two entities that only case tells apart), nulls in every feature of u9.
    first = tmp.resolve("first");
    List<Row> rows = new ArrayList<>();
    for (String u : List.of("u1", "u2", "u3", "u4")) {
      rows.add(SinkFixtures.row(u, D1));
      rows.add(SinkFixtures.row(u, D2));
    }
    SinkFixtures.run(1, first, List.of(D1, D2), 2, rows,
        List.of(SinkFixtures.passed(D1, 4), SinkFixtures.passed(D2, 4)));
    second = tmp.resolve("second");
    SinkFixtures.run(1, second, List.of(D1), 2, List.of(
        SinkFixtures.row("u1", D1, 99L, 12.5, false, 3, "changed", "2025-01-04T23:59:59.999Z"),
        SinkFixtures.row("u3", D1), SinkFixtures.row("u4", D1),
        SinkFixtures.row("u9", D1, 0L, null, false, null, null, null),
        SinkFixtures.row("U9", D1)), List.of(SinkFixtures.passed(D1, 5)));
  }

  @AfterEach
  void noFaults() {
    System.clearProperty(StoreFaults.PROPERTY);
  }

  @AfterAll
  static void drop() throws Exception {
    for (String url : List.of(PG, MARIA)) {
      try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
        for (String t : TABLES) {
          s.execute("DROP TABLE IF EXISTS " + t);
        }
      }
    }
  }

  private static String url(String db) {
    return db.equals("postgresql") ? PG : MARIA;
  }

  private static JdbcFeatureTable table(String db, FeatureSpec spec) {
    return JdbcFeatureTable.of(JdbcTarget.parse(url(db), null, null, System::getenv), spec)
        .withBatchSize(2);
  }

  private static Path dir(Path root, long day) {
    return OfflineStore.partitionDir(root, SinkFixtures.SPEC, day);
  }

  private static PartitionOutcome published(Path root, long day) {
    Path d = dir(root, day);
    return PartitionOutcome.of(day, true, OfflineStore.readRowCount(d).getAsLong(), d.toString(),
        List.of(), OfflineStore.manifestSha256(d).get());
  }

  /** A partition's rows as text, one line per row, sorted: what the table must hold for it. */
  private static List<String> parquet(Path root, long day) {
    List<String> out = new ArrayList<>();
    for (GenericRecord r : PartitionReader.read(dir(root, day))) {
      Object ts = r.get("last_ts");
      out.add(String.join("|", r.get("user_id").toString(),
          LocalDate.ofEpochDay((Integer) r.get("as_of_date")).toString(),
          String.valueOf(r.get("txn_count_7d")), String.valueOf(r.get("avg_amount_7d")),
          String.valueOf(r.get("active_24h")), String.valueOf(r.get("days_since_last")),
          String.valueOf(r.get("last_status")),
          ts == null ? "null" : java.time.Instant.ofEpochMilli((Long) ts).toString()));
    }
    out.sort(null);
    return out;
  }

  /** The table's rows of a date in the same form, read with the column's Java types. */
  private static List<String> table(String db, String table, long day) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url(db)); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT * FROM " + table + " WHERE as_of_date = '"
            + LocalDate.ofEpochDay(day) + "'")) {
      while (r.next()) {
        Object ts = db.equals("postgresql")
            ? r.getObject("last_ts", OffsetDateTime.class)
            : r.getObject("last_ts", LocalDateTime.class);
        String instant = ts == null ? "null" : ts instanceof OffsetDateTime
            ? ((OffsetDateTime) ts).toInstant().toString()
            : ((LocalDateTime) ts).toInstant(ZoneOffset.UTC).toString();
        out.add(String.join("|", r.getString("user_id"),
            r.getObject("as_of_date", LocalDate.class).toString(),
            String.valueOf(r.getObject("txn_count_7d", Long.class)),
            String.valueOf(r.getObject("avg_amount_7d", Double.class)),
            String.valueOf(r.getObject("active_24h", Boolean.class)),
            String.valueOf(r.getObject("days_since_last", Integer.class)),
            String.valueOf(r.getString("last_status")), instant));
      }
    }
    out.sort(null);
    return out;
  }

  private static long count(String db, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url(db)); Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "mariadb"})
  void eachDateHoldsExactlyItsLatestPartition(String db) throws Exception {
    String t = FS + "_v1";
    JdbcFeatureTable.Mirror mirror = table(db, SPEC).checkOrCreate();
    assertThat(mirror.tableName(), equalTo(t));
    Map<String, Long> written = mirror.replaceAll(List.of(published(first, D2),
        published(first, D1), PartitionOutcome.of(D1 + 5, false, 3, "/nowhere", List.of("x"))));
    assertThat(written, equalTo(Map.of("2025-01-05", 4L, "2025-01-06", 4L)));
    assertThat(new ArrayList<>(written.keySet()), equalTo(List.of("2025-01-05", "2025-01-06")));
    assertThat(table(db, t, D1), equalTo(parquet(first, D1)));
    assertThat(table(db, t, D2), equalTo(parquet(first, D2)));
    assertThat(parquet(first, D1), hasSize(4));

    // The second run's D1: u2 is gone, u9 and U9 are two rows, D2 is not touched. Twice, as a
    // rerun does, and through a second checkOrCreate of the now existing table.
    for (int run = 0; run < 2; run++) {
      assertThat(table(db, SPEC).checkOrCreate().replaceAll(List.of(published(second, D1))),
          equalTo(Map.of("2025-01-05", 5L)));
      assertThat(table(db, t, D1), equalTo(parquet(second, D1)));
      assertThat(table(db, t, D2), equalTo(parquet(first, D2)));
    }
    assertThat(String.join("\n", table(db, t, D1)), allOf(
        containsString("u1|2025-01-05|99|12.5|false|3|changed|2025-01-04T23:59:59.999Z"),
        containsString("u9|2025-01-05|0|null|false|null|null|null"), containsString("U9|")));
    assertThat(count(db, "SELECT COUNT(*) FROM " + t), is(9L));
    // The key holds: a second copy of a row is refused.
    try (Connection c = DriverManager.getConnection(url(db)); Statement s = c.createStatement()) {
      assertThrows(java.sql.SQLException.class, () -> s.execute("INSERT INTO " + t
          + " (user_id, as_of_date) VALUES ('u1', '2025-01-05')"));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "mariadb"})
  void aDateThatFailsBeforeItsCommitHoldsTheRowsItHad(String db) throws Exception {
    FeatureSpec v2 = SpecParser.parse(SinkFixtures.SPEC_TEXT
        .replace("feature_set: user_features", "feature_set: " + FS).replace("version: 1",
            "version: 2"));
    String t = FS + "_v2";
    JdbcFeatureTable.Mirror mirror = table(db, v2).checkOrCreate();
    mirror.replaceAll(List.of(published(first, D1), published(first, D2)));
    List<String> d1 = table(db, t, D1);
    List<String> d2 = table(db, t, D2);

    // The first date fails: nothing changes, and the error names it.
    System.setProperty(StoreFaults.PROPERTY, StoreFaults.SINK_BEFORE_COMMIT + "@2025-01-05:throw");
    JdbcFeatureTable.MirrorException atFirst = assertThrows(JdbcFeatureTable.MirrorException.class,
        () -> mirror.replaceAll(List.of(published(second, D1))));
    assertThat(atFirst.getMessage(), allOf(containsString("as_of_date=2025-01-05"),
        containsString("holds the rows it had"), containsString("fault injected")));
    assertThat(atFirst.replaced(), is(empty()));
    assertThat(table(db, t, D1), equalTo(d1));

    // The second date fails: the first stays replaced, the second as it was.
    System.setProperty(StoreFaults.PROPERTY, StoreFaults.SINK_BEFORE_COMMIT + "@2025-01-06:throw");
    JdbcFeatureTable.MirrorException later = assertThrows(JdbcFeatureTable.MirrorException.class,
        () -> mirror.replaceAll(List.of(published(second, D1), published(first, D2))));
    assertThat(later.date(), equalTo("2025-01-06"));
    assertThat(later.replaced(), equalTo(List.of("2025-01-05")));
    assertThat(table(db, t, D1), equalTo(parquet(second, D1)));
    assertThat(table(db, t, D2), equalTo(d2));

    // While a replacement waits before its commit, a reader sees the date's old rows.
    mirror.replaceAll(List.of(published(first, D1)));
    System.setProperty(StoreFaults.PROPERTY, StoreFaults.SINK_BEFORE_COMMIT + "@2025-01-05:pause=4000");
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread writer = new Thread(() -> {
      try {
        mirror.replaceAll(List.of(published(second, D1)));
      } catch (Throwable e) {
        failed.set(e);
      }
    });
    writer.start();
    Thread.sleep(1500);
    assertThat(writer.isAlive(), is(true));
    assertThat(table(db, t, D1), equalTo(d1));
    writer.join();
    assertThat(String.valueOf(failed.get()), failed.get() == null, is(true));
    assertThat(table(db, t, D1), equalTo(parquet(second, D1)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "mariadb"})
  void aTableThatCannotHoldThePartitionsIsRefusedNamingWhy(String db) throws Exception {
    FeatureSpec v3 = SpecParser.parse(SinkFixtures.SPEC_TEXT
        .replace("feature_set: user_features", "feature_set: " + FS).replace("version: 1",
            "version: 3"));
    String t = FS + "_v3";
    String ts = db.equals("postgresql") ? "TIMESTAMPTZ" : "DATETIME(3)";
    String good = "user_id VARCHAR(40) NOT NULL, as_of_date DATE NOT NULL, txn_count_7d BIGINT,"
        + " avg_amount_7d DOUBLE PRECISION, active_24h BOOLEAN, days_since_last INTEGER,"
        + " last_status TEXT, last_ts " + ts;
    Map<String, String> broken = new java.util.LinkedHashMap<>();
    broken.put(good.replace(", last_status TEXT", "") + ", PRIMARY KEY (user_id, as_of_date)",
        "it has no column last_status");
    broken.put(good.replace("txn_count_7d BIGINT", "txn_count_7d TEXT")
        + ", PRIMARY KEY (user_id, as_of_date)", "column txn_count_7d");
    broken.put(good + ", PRIMARY KEY (user_id)", "its primary key is (user_id)");
    broken.put(good + ", note TEXT, PRIMARY KEY (user_id, as_of_date)",
        "columns the partitions do not: note");
    broken.put(good.replace("txn_count_7d BIGINT", "txn_count_7d BIGINT NOT NULL")
        + ", PRIMARY KEY (user_id, as_of_date)", "is NOT NULL");
    try (Connection c = DriverManager.getConnection(url(db)); Statement s = c.createStatement()) {
      for (Map.Entry<String, String> e : broken.entrySet()) {
        s.execute("DROP TABLE IF EXISTS " + t);
        s.execute("CREATE TABLE " + t + " (" + e.getKey() + ")");
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> table(db, v3).checkOrCreate(), e.getKey());
        assertThat(refused.getMessage(), allOf(containsString("table " + t),
            containsString(e.getValue())));
      }
      // A table made beforehand with other compatible types (here VARCHAR(40)) is used as it is;
      // an entity longer than its column fails the date before anything changes.
      s.execute("DROP TABLE IF EXISTS " + t);
      s.execute("CREATE TABLE " + t + " (" + good + ", PRIMARY KEY (user_id, as_of_date))");
      JdbcFeatureTable.Mirror mirror = table(db, v3).checkOrCreate();
      mirror.replaceAll(List.of(published(first, D1)));
      assertThat(table(db, t, D1), equalTo(parquet(first, D1)));
      Path longRoot = tmp.resolve("long-" + db);
      String longEntity = "u".repeat(41);
      SinkFixtures.run(1, longRoot, List.of(D1), 1, List.of(SinkFixtures.row("u1", D1, 5L, 1.0,
          true, 0, "x", null), SinkFixtures.row(longEntity, D1)),
          List.of(SinkFixtures.passed(D1, 2)));
      JdbcFeatureTable.MirrorException tooLong = assertThrows(
          JdbcFeatureTable.MirrorException.class,
          () -> mirror.replaceAll(List.of(published(longRoot, D1))));
      assertThat(tooLong.getMessage(), allOf(containsString("cannot hold the entity"),
          containsString("of 41 characters")));
      assertThat(table(db, t, D1), equalTo(parquet(first, D1)));
      if (db.equals("mariadb")) {
        s.execute("ALTER TABLE " + t + " ENGINE=MyISAM");
        assertThat(assertThrows(IllegalArgumentException.class,
            () -> table(db, v3).checkOrCreate()).getMessage(),
            containsString("its engine MyISAM has no transactions"));
      }
    }
  }
}
