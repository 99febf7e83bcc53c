package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import dev.featurebeam.testing.TestPipelineExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * JdbcSource on the machine's PostgreSQL and MariaDB: rows inside the time range (and those with a
 * NULL timestamp) are read once each, in any number of range queries, native values as the declared
 * type's (a DATETIME read in the spec's zone); rows at or after the end, or before the start, are
 * not read.
 */
@ExtendWith(TestPipelineExtension.class)
class JdbcSourceTest {
  private static final String SPEC = String.join("\n",
      "feature_set: src",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_timezone: Europe/Berlin",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  ts:      {type: timestamp, required: true}",
      "  amount:  {type: double}",
      "  n:       {type: long}",
      "  ok:      {type: boolean}",
      "features:",
      "  - {name: c, agg: count, window: 7d}",
      "");

  private static String url(String db) {
    return db.equals("postgresql") ? "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"
        : "jdbc:mariadb://127.0.0.1:3306/test?user=root";
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql:1", "postgresql:3", "mariadb:1", "mariadb:4",
      "postgresql:3:open", "mariadb:2:open", "mariadb:2:query", "postgresql:2:query",
      "mariadb:2:upper"})
  void readsTheRangeOnceInAnyNumberOfQueries(String dbAndPartitions, TestPipeline p)
      throws Exception {
    String db = dbAndPartitions.split(":")[0];
    int partitions = Integer.parseInt(dbAndPartitions.split(":")[1]);
    boolean open = dbAndPartitions.endsWith(":open"); // no lower bound
    boolean query = dbAndPartitions.endsWith(":query"); // the user's SELECT, not a table
    // A column whose name matches its field's only ignoring case still lands under the field's.
    boolean upper = dbAndPartitions.endsWith(":upper");
    String table = "fb_source_" + ThreadLocalRandom.current().nextInt(1 << 30);
    // PostgreSQL: an instant (timestamptz); MariaDB: a local time of the source's zone (DATETIME).
    String tsType = db.equals("postgresql") ? "TIMESTAMPTZ" : "DATETIME(3)";
    try (Connection c = DriverManager.getConnection(url(db)); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE " + table + " (user_id VARCHAR(20), ts " + tsType
          + ", amount NUMERIC(12,2), n BIGINT, ok BOOLEAN)");
      try {
        // Ten rows a day from 2025-01-01 to 2025-01-10, 00:00 UTC onwards, each 2 h 24 min apart.
        List<String> expected = new ArrayList<>();
        long from = open ? Long.MIN_VALUE : Instant.parse("2025-01-03T00:00:00Z").toEpochMilli();
        long until = Instant.parse("2025-01-08T00:00:00Z").toEpochMilli();
        ZoneId berlin = ZoneId.of("Europe/Berlin");
        for (int i = 0; i < 100; i++) {
          long t = Instant.parse("2025-01-01T00:00:00Z").toEpochMilli() + i * 8_640_000L + 123;
          String literal = db.equals("postgresql")
              ? "'" + Instant.ofEpochMilli(t) + "'"
              : "'" + java.time.LocalDateTime.ofInstant(Instant.ofEpochMilli(t), berlin)
                  .toString().replace('T', ' ') + "'";
          s.execute("INSERT INTO " + table + " VALUES ('u" + (i % 7) + "', " + literal + ", "
              + (i % 5 == 0 ? "NULL" : i + ".50") + ", " + (i * 1000L) + ", "
              + (i % 2 == 0) + ")");
          if (t >= from && t < until) {
            // Native values: the instant (a DATETIME read in the source's zone), doubles, longs.
            expected.add("u" + (i % 7) + "|" + t + "|" + (i % 5 == 0 ? "null" : (i + 0.5))
                + "|" + (i * 1000L) + "|" + (i % 2 == 0));
          }
        }
        s.execute("INSERT INTO " + table + " VALUES ('nots', NULL, 1.00, 1, true)");
        expected.add("nots|null|1.0|1|true");

        FeatureSpec spec = SpecParser.parse(SPEC);
        JdbcRelation relation = query ? JdbcRelation.query("SELECT * FROM " + table)
            : upper ? JdbcRelation.query("SELECT user_id AS USER_ID, ts, amount, n, ok FROM "
                + table)
            : JdbcRelation.table(table);
        JdbcSource source = JdbcSource.checked(
                JdbcTarget.parse(url(db), null, null, System::getenv), relation, spec)
            .withTimeRange(from, until).withPartitions(partitions);
        assertThat(source.predicate(), equalTo("(" + (open ? "" : q(db, "ts")
            + " >= 2025-01-03T00:00:00Z AND ") + q(db, "ts") + " < 2025-01-08T00:00:00Z) OR "
            + q(db, "ts") + " IS NULL"));

        PCollection<String> rows = p.apply(source).apply(MapElements
            .into(TypeDescriptors.strings()).via((RawRecord r) -> line(r)));
        PAssert.that(rows).containsInAnyOrder(expected);
        p.run().waitUntilFinish();
      } finally {
        s.execute("DROP TABLE IF EXISTS " + table);
      }
    }
  }

  private static String q(String db, String name) {
    return db.equals("postgresql") ? "\"" + name + "\"" : "`" + name + "`";
  }

  /** The record's values: typed ones as their Java value, the rest (and NULLs) as text. */
  private static String line(RawRecord r) {
    Map<String, Object> f = new TreeMap<>(r.fields());
    f.putAll(r.values());
    String types = r.values().getOrDefault("ts", "").getClass().getSimpleName()
        + r.values().getOrDefault("amount", 0.0).getClass().getSimpleName()
        + r.values().get("n").getClass().getSimpleName()
        + r.values().get("ok").getClass().getSimpleName();
    if (!types.matches("(Long|String)DoubleLongBoolean")) {
      return "not typed: " + types;
    }
    return f.get("user_id") + "|" + f.get("ts") + "|" + f.get("amount") + "|" + f.get("n") + "|"
        + f.get("ok");
  }
}
