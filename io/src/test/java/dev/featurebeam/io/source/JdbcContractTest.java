package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JDBC schema contract on the machine's PostgreSQL (127.0.0.1:5432, database test) and
 * MariaDB (127.0.0.1:3306, database test, root): typed and all-text tables pass, a dropped
 * required column and a boolean where a timestamp is declared stop it naming both, a query is
 * checked as a table is, and a table name with a quote in it is refused before any SQL runs.
 */
class JdbcContractTest {
  private static final String SPEC = String.join("\n",
      "feature_set: contract",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  ts:      {type: timestamp, required: true}",
      "  amount:  {type: double}",
      "  n:       {type: long}",
      "  ok:      {type: boolean}",
      "  note:    {type: string}",
      "features:",
      "  - {name: c, agg: count, window: 7d}",
      "");

  private static Connection connect(String db) throws Exception {
    return db.equals("postgresql")
        ? DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test?user=postgres")
        : DriverManager.getConnection("jdbc:mariadb://127.0.0.1:3306/test?user=root");
  }

  private static String timestampType(String db) {
    return db.equals("postgresql") ? "TIMESTAMPTZ" : "DATETIME(3)";
  }

  private static FeatureSpec spec() {
    return SpecParser.parse(SPEC);
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "mariadb"})
  void typedAndTextTablesPassAndBreaksNameTheColumn(String db) throws Exception {
    String t = "fb_contract_" + ThreadLocalRandom.current().nextInt(1 << 30);
    try (Connection c = connect(db); Statement s = c.createStatement()) {
      try {
        s.execute("CREATE TABLE " + t + "_typed (user_id VARCHAR(20) NOT NULL, ts "
            + timestampType(db) + " NOT NULL, amount NUMERIC(12,2), n BIGINT, ok BOOLEAN,"
            + " note TEXT, extra INTEGER)");
        s.execute("CREATE TABLE " + t + "_text (USER_ID TEXT, TS TEXT, AMOUNT TEXT, N TEXT,"
            + " OK TEXT)");
        s.execute("CREATE TABLE " + t + "_dropped (user_id TEXT, amount DOUBLE PRECISION)");
        s.execute("CREATE TABLE " + t + "_bool (user_id TEXT, ts BOOLEAN)");
        s.execute("CREATE TABLE " + t + "_fraction (user_id TEXT, ts " + timestampType(db)
            + ", n NUMERIC(10,3))");

        JdbcRelation typed = JdbcRelation.table(t + "_typed");
        Map<String, JdbcContract.Column> columns =
            JdbcContract.check(spec(), JdbcContract.describe(c, typed), typed);
        assertThat(columns.keySet(), equalTo(java.util.Set.of("user_id", "ts", "amount", "n", "ok",
            "note")));

        // Text carries every type; upper-case names match when nothing else does.
        JdbcRelation text = JdbcRelation.table(t + "_text");
        assertThat(JdbcContract.check(spec(), JdbcContract.describe(c, text), text).get("ts")
            .name().toLowerCase(), equalTo("ts"));

        JdbcRelation dropped = JdbcRelation.table(t + "_dropped");
        SchemaContractException missing = assertThrows(SchemaContractException.class,
            () -> JdbcContract.check(spec(), JdbcContract.describe(c, dropped), dropped));
        assertThat(missing.getMessage(), allOf(containsString("required field 'ts'"),
            containsString(t + "_dropped"), containsString("user_id, amount")));

        JdbcRelation bool = JdbcRelation.table(t + "_bool");
        SchemaContractException wrongType = assertThrows(SchemaContractException.class,
            () -> JdbcContract.check(spec(), JdbcContract.describe(c, bool), bool));
        assertThat(wrongType.getMessage(), allOf(containsString("column 'ts'"),
            containsString("field 'ts', declared timestamp")));

        JdbcRelation fraction = JdbcRelation.table(t + "_fraction");
        SchemaContractException scale = assertThrows(SchemaContractException.class,
            () -> JdbcContract.check(spec(), JdbcContract.describe(c, fraction), fraction));
        assertThat(scale.getMessage(), containsString("field 'n', declared long"));

        // A query is a subquery: its columns are checked as a table's are.
        JdbcRelation query = JdbcRelation.query("SELECT user_id, ts FROM " + t + "_typed;");
        assertThat(JdbcContract.check(spec(), JdbcContract.describe(c, query), query).keySet(),
            equalTo(java.util.Set.of("user_id", "ts")));
        JdbcRelation renamed = JdbcRelation.query("SELECT user_id, amount AS ts FROM " + t
            + "_typed");
        assertThat(assertThrows(SchemaContractException.class, () -> JdbcContract.check(spec(),
            JdbcContract.describe(c, renamed), renamed)).getMessage(),
            containsString("declared timestamp"));
      } finally {
        for (String suffix : List.of("_typed", "_text", "_dropped", "_bool", "_fraction")) {
          s.execute("DROP TABLE IF EXISTS " + t + suffix);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"events\"; DROP TABLE x; --", "a b", "ev`ents", "1events", "a.b.c", ""})
  void aTableNameThatIsNotAnIdentifierIsRefused(String name) {
    assertThrows(IllegalArgumentException.class, () -> JdbcRelation.table(name));
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "mariadb"})
  void aTableIsQuotedWithTheDatabasesQuote(String db) throws Exception {
    try (Connection c = connect(db)) {
      String quote = db.equals("postgresql") ? "\"" : "`";
      assertThat(JdbcRelation.table("public.events").from(c.getMetaData()),
          equalTo(quote + "public" + quote + "." + quote + "events" + quote));
      assertThat(JdbcRelation.query("SELECT 1 AS x").from(c.getMetaData()),
          equalTo("(SELECT 1 AS x) fb_source"));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"SELECT 1; DROP TABLE x", "  "})
  void aQueryOfMoreThanOneStatementIsRefused(String sql) {
    assertThrows(IllegalArgumentException.class, () -> JdbcRelation.query(sql));
  }
}
