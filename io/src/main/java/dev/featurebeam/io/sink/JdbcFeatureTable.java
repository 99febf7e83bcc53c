package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.featurebeam.io.source.JdbcTarget;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.JDBCType;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.parquet.hadoop.ParquetReader;

/**
 * The JDBC mirror of a feature set version's published partitions: the table {@code
 * <feature_set>_v<version>} in the connection's current schema, with the partition's columns in
 * order, primary key (entity, as_of_date) and an index on as_of_date.
 *
 * <p>{@link #checkOrCreate} runs before the pipeline: it creates the table when it is missing and
 * otherwise checks that it can hold the partitions (every column, a compatible type, that key,
 * nothing else), so that a table that does not fit stops the run before any work. {@link
 * Mirror#replace} runs after a partition is published: in one transaction it deletes the date's
 * rows and inserts the partition's in batches, then commits, so a reader sees the date's old rows
 * or its new ones, never a mix, and a rerun or an overlapping backfill never duplicates a row.
 * Delete-then-insert rather than an upsert alone: an entity that a rerun no longer has for the
 * date goes too, as it does from the Parquet partition.
 *
 * <p>This is not a Beam transform: Beam's JdbcIO writes each bundle in its own transaction, and a
 * date must be replaced in one, after its Parquet partition is published; the driver does it,
 * reading the published files back one row at a time. Identifiers are quoted with the database's
 * quote; every value is a bound parameter.
 */
@AutoValue
public abstract class JdbcFeatureTable {
  /** Rows sent per JDBC batch. */
  public static final int DEFAULT_BATCH_SIZE = 1000;
  /**
   * The entity column's VARCHAR length where the database cannot key on TEXT (MariaDB); a longer
   * entity fails its date. A table created beforehand may have any other length.
   */
  public static final int ENTITY_LENGTH = 255;

  abstract JdbcTarget target();

  abstract FeatureSpec spec();

  abstract int batchSize();

  public static JdbcFeatureTable of(JdbcTarget target, FeatureSpec spec) {
    return new AutoValue_JdbcFeatureTable(target, spec, DEFAULT_BATCH_SIZE);
  }

  public JdbcFeatureTable withBatchSize(int rows) {
    checkArgument(rows >= 1, "a batch holds at least one row");
    return new AutoValue_JdbcFeatureTable(target(), spec(), rows);
  }

  /** {@code <feature_set>_v<version>}. */
  public String tableName() {
    return tableName(spec());
  }

  public static String tableName(FeatureSpec spec) {
    return spec.featureSet() + "_v" + spec.version();
  }

  /** The database as messages and the report show it: no password. */
  public String displayUrl() {
    return target().displayUrl();
  }

  /**
   * Creates the table when it is missing, else checks it; returns the mirror that replaces dates.
   *
   * @throws IllegalArgumentException when the table cannot hold the partitions, or the database
   *     is not one whose types this sink knows
   * @throws SQLException when the database cannot be reached or refuses the table (the message
   *     holds no password)
   */
  public Mirror checkOrCreate() throws SQLException {
    try (Connection c = target().connect()) {
      DatabaseMetaData meta = c.getMetaData();
      SqlDialect dialect = SqlDialect.of(meta);
      String table = tableName();
      checkLength(table, meta.getMaxTableNameLength(), "table name");
      for (String column : spec().outputColumns()) {
        checkLength(column, meta.getMaxColumnNameLength(), "column name");
      }
      List<Column> columns = describe(c, table);
      if (columns.isEmpty()) {
        create(c, dialect, table);
        columns = describe(c, table);
        if (columns.isEmpty()) {
          throw new SQLException("table " + table + " was created but its columns cannot be read");
        }
      }
      List<Column> matched = check(c, dialect, table, columns);
      return new Mirror(this, meta.getIdentifierQuoteString(), matched);
    } catch (SQLException e) {
      throw new SQLException(target().redact(e.getMessage()), e.getSQLState(), e.getErrorCode());
    }
  }

  private static void checkLength(String name, int max, String what) {
    // 0 means no limit or unknown. PostgreSQL would silently cut a longer name.
    if (max > 0 && name.length() > max) {
      throw new IllegalArgumentException("the " + what + " " + name + " is longer than the"
          + " database's " + max + " characters");
    }
  }

  /** One column as the table has it. */
  private static final class Column {
    final String name;
    final int jdbcType;
    final String typeName;
    final int size;
    final boolean nullable;

    Column(String name, int jdbcType, String typeName, int size, boolean nullable) {
      this.name = name;
      this.jdbcType = jdbcType;
      this.typeName = typeName;
      this.size = size;
      this.nullable = nullable;
    }

    /** PostgreSQL reports timestamptz as TIMESTAMP; its type name tells them apart. */
    boolean zoned() {
      return jdbcType == Types.TIMESTAMP_WITH_TIMEZONE || typeName.equalsIgnoreCase("timestamptz");
    }

    String describe() {
      return name + " " + typeName;
    }
  }

  private static String escaped(DatabaseMetaData meta, String name) throws SQLException {
    // getColumns takes LIKE patterns, where _ matches any one character.
    String escape = meta.getSearchStringEscape();
    return escape == null || escape.isEmpty() ? name
        : name.replace(escape, escape + escape).replace("_", escape + "_")
            .replace("%", escape + "%");
  }

  /** The table's columns in order, or none when there is no such table. */
  private static List<Column> describe(Connection c, String table) throws SQLException {
    DatabaseMetaData meta = c.getMetaData();
    String schema = c.getSchema();
    List<Column> out = new ArrayList<>();
    try (ResultSet r = meta.getColumns(c.getCatalog(), schema == null ? null
        : escaped(meta, schema), escaped(meta, table), "%")) {
      while (r.next()) {
        if (!r.getString("TABLE_NAME").equals(table)) {
          continue;
        }
        out.add(new Column(r.getString("COLUMN_NAME"), r.getInt("DATA_TYPE"),
            r.getString("TYPE_NAME"), r.getInt("COLUMN_SIZE"),
            !"NO".equals(r.getString("IS_NULLABLE"))));
      }
    }
    return out;
  }

  private void create(Connection c, SqlDialect dialect, String table) throws SQLException {
    String q = c.getMetaData().getIdentifierQuoteString();
    Schema schema = spec().outputSchema();
    List<String> defs = new ArrayList<>();
    defs.add(quote(spec().entity(), q) + " " + dialect.entityType(ENTITY_LENGTH) + " NOT NULL");
    defs.add(quote(FeatureSpec.AS_OF_DATE, q) + " DATE NOT NULL");
    for (Schema.Field f : schema.getFields().subList(2, schema.getFieldCount())) {
      defs.add(quote(f.getName(), q) + " " + dialect.type(f.getType().getTypeName()));
    }
    defs.add("PRIMARY KEY (" + quote(spec().entity(), q) + ", "
        + quote(FeatureSpec.AS_OF_DATE, q) + ")");
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS " + quote(table, q) + " (" + String.join(", ", defs)
          + ")" + dialect.tableOptions());
      // A date is deleted and read by as_of_date; the key leads with the entity.
      s.execute("CREATE INDEX IF NOT EXISTS " + quote(table + "_as_of_date", q) + " ON "
          + quote(table, q) + " (" + quote(FeatureSpec.AS_OF_DATE, q) + ")");
    }
  }

  /** The JDBC types a column of each partition type may have. */
  private static Set<Integer> accepted(Schema.TypeName type) {
    switch (type) {
      case STRING:
        return Set.of(Types.VARCHAR, Types.LONGVARCHAR, Types.NVARCHAR, Types.LONGNVARCHAR,
            Types.CLOB);
      case INT64:
        return Set.of(Types.BIGINT);
      case INT32:
        return Set.of(Types.INTEGER, Types.BIGINT);
      case BOOLEAN:
        return Set.of(Types.BOOLEAN, Types.BIT, Types.TINYINT);
      case DOUBLE:
        return Set.of(Types.DOUBLE, Types.FLOAT);
      case DATETIME:
        return Set.of(Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE);
      case LOGICAL_TYPE: // as_of_date
        return Set.of(Types.DATE);
      default:
        throw new IllegalArgumentException("no column type for " + type);
    }
  }

  private static String sqlTypeName(int jdbcType) {
    try {
      return JDBCType.valueOf(jdbcType).getName();
    } catch (IllegalArgumentException e) {
      return String.valueOf(jdbcType);
    }
  }

  /**
   * The table's columns in the partition's order, checked: each partition column present (by
   * name, ignoring case as the database does not always keep it) with an accepted type, features
   * nullable, the key exactly (entity, as_of_date), no other column, a transactional table.
   */
  private List<Column> check(Connection c, SqlDialect dialect, String table, List<Column> columns)
      throws SQLException {
    String where = "table " + table + " cannot hold the partitions of " + spec().featureSet()
        + " v" + spec().version() + ": ";
    Map<String, Column> byName = new LinkedHashMap<>();
    for (Column col : columns) {
      byName.put(col.name.toLowerCase(Locale.ROOT), col);
    }
    Schema schema = spec().outputSchema();
    List<Column> matched = new ArrayList<>();
    for (Schema.Field f : schema.getFields()) {
      Column col = byName.remove(f.getName().toLowerCase(Locale.ROOT));
      if (col == null) {
        throw new IllegalArgumentException(where + "it has no column " + f.getName() + " (it has "
            + columns.stream().map(x -> x.name).collect(Collectors.joining(", ")) + ")");
      }
      Set<Integer> ok = accepted(f.getType().getTypeName());
      if (!ok.contains(col.jdbcType)) {
        throw new IllegalArgumentException(where + "column " + col.describe() + " cannot hold "
            + describe(f) + " (expected one of " + ok.stream().map(JdbcFeatureTable::sqlTypeName)
                .sorted().collect(Collectors.joining(", ")) + ")");
      }
      if (matched.size() >= 2 && !col.nullable) {
        throw new IllegalArgumentException(where + "column " + col.describe() + " is NOT NULL,"
            + " and a feature can be null");
      }
      matched.add(col);
    }
    if (!byName.isEmpty()) {
      throw new IllegalArgumentException(where + "it has columns the partitions do not: "
          + byName.values().stream().map(x -> x.name).collect(Collectors.joining(", ")));
    }
    Set<String> key = primaryKey(c, table);
    Set<String> expected = new TreeSet<>(List.of(spec().entity().toLowerCase(Locale.ROOT),
        FeatureSpec.AS_OF_DATE));
    if (!key.equals(expected)) {
      throw new IllegalArgumentException(where + "its primary key is " + (key.isEmpty() ? "none"
          : "(" + String.join(", ", key) + ")") + ", not (" + spec().entity() + ", "
          + FeatureSpec.AS_OF_DATE + ")");
    }
    dialect.nonTransactionalEngine(c, table).ifPresent(engine -> {
      throw new IllegalArgumentException(where + "its engine " + engine + " has no transactions,"
          + " so a reader could see half a date; use InnoDB");
    });
    return matched;
  }

  private String describe(Schema.Field f) {
    String column = f.getName().equals(spec().entity()) ? "the entity" : f.getName();
    return column + " (" + (f.getName().equals(FeatureSpec.AS_OF_DATE) ? "DATE"
        : f.getType().getTypeName().toString()) + ")";
  }

  private static Set<String> primaryKey(Connection c, String table) throws SQLException {
    Set<String> key = new TreeSet<>();
    try (ResultSet r = c.getMetaData().getPrimaryKeys(c.getCatalog(), c.getSchema(), table)) {
      while (r.next()) {
        key.add(r.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
      }
    }
    return key;
  }

  /** {@code name} in the database's identifier quote, a quote inside doubled. */
  static String quote(String name, String quote) {
    if (quote == null || quote.isBlank()) {
      return name;
    }
    String q = quote.strip();
    return q + name.replace(q, q + q) + q;
  }

  /**
   * A date could not be replaced: its transaction was rolled back, so its rows are as they were;
   * the dates in {@link #replaced} were committed before it.
   */
  public static final class MirrorException extends RuntimeException {
    private final String date;
    private final List<String> replaced;

    MirrorException(String message, String date, List<String> replaced) {
      super(message);
      this.date = date;
      this.replaced = List.copyOf(replaced);
    }

    public String date() {
      return date;
    }

    public List<String> replaced() {
      return replaced;
    }
  }

  /** The checked table: replaces published dates. */
  public static final class Mirror {
    private final JdbcFeatureTable table;
    private final List<Column> columns;
    private final String delete;
    private final String insert;

    private Mirror(JdbcFeatureTable table, String quote, List<Column> columns) {
      this.table = table;
      this.columns = columns;
      String t = quote(table.tableName(), quote);
      this.delete = "DELETE FROM " + t + " WHERE " + quote(columns.get(1).name, quote) + " = ?";
      this.insert = "INSERT INTO " + t + " (" + columns.stream().map(col -> quote(col.name, quote))
          .collect(Collectors.joining(", ")) + ") VALUES (" + columns.stream().map(col -> "?")
          .collect(Collectors.joining(", ")) + ")";
    }

    public String tableName() {
      return table.tableName();
    }

    /**
     * Replaces the date of every published outcome, in date order, each in its own transaction;
     * returns the rows written per date (YYYY-MM-DD). An unpublished date is not touched.
     *
     * @throws MirrorException naming the first date that failed; the dates before it stay
     *     committed
     */
    public Map<String, Long> replaceAll(List<PartitionOutcome> outcomes) {
      List<PartitionOutcome> sorted = new ArrayList<>(outcomes);
      sorted.sort((a, b) -> Long.compare(a.asOfEpochDay(), b.asOfEpochDay()));
      Map<String, Long> written = new LinkedHashMap<>();
      for (PartitionOutcome o : sorted) {
        if (!o.published()) {
          continue;
        }
        String date = LocalDate.ofEpochDay(o.asOfEpochDay()).toString();
        try {
          written.put(date, replace(o.asOfEpochDay(), Path.of(o.path())));
        } catch (SQLException | IOException | RuntimeException e) {
          MirrorException failed = new MirrorException("table " + tableName() + ": as_of_date="
              + date + " was not replaced and holds the rows it had ("
              + table.target().redact(e.getMessage()) + ")" + (written.isEmpty() ? ""
                  : "; this run replaced " + String.join(", ", written.keySet()) + " before it"),
              date, new ArrayList<>(written.keySet()));
          // Not the cause: the command line prints a failure's root cause, which lacks the date.
          failed.addSuppressed(e);
          throw failed;
        }
      }
      return written;
    }

    /**
     * In one transaction: deletes the date's rows, inserts the published partition's rows in
     * batches, checks their count against the manifest, commits. Returns the rows inserted.
     */
    public long replace(long asOfEpochDay, Path partitionDir) throws SQLException, IOException {
      LocalDate date = LocalDate.ofEpochDay(asOfEpochDay);
      long expected = OfflineStore.readRowCount(partitionDir)
          .orElseThrow(() -> new IOException(partitionDir + " is not published"));
      try (Connection c = table.target().connect()) {
        c.setAutoCommit(false);
        try {
          try (PreparedStatement d = c.prepareStatement(delete)) {
            d.setObject(1, date);
            d.executeUpdate();
          }
          long rows = 0;
          try (PreparedStatement ins = c.prepareStatement(insert)) {
            int pending = 0;
            for (Path file : PartitionReader.files(partitionDir)) {
              try (ParquetReader<GenericRecord> reader = PartitionReader.open(file)) {
                for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                  bind(ins, r, asOfEpochDay);
                  ins.addBatch();
                  rows++;
                  if (++pending == table.batchSize()) {
                    ins.executeBatch();
                    pending = 0;
                  }
                }
              }
            }
            if (pending > 0) {
              ins.executeBatch();
            }
          }
          if (rows != expected) {
            throw new IOException(partitionDir + " holds " + rows + " rows, its manifest "
                + expected);
          }
          StoreFaults.at(StoreFaults.SINK_BEFORE_COMMIT, date.toString());
          c.commit();
          return rows;
        } catch (SQLException | IOException | RuntimeException e) {
          try {
            c.rollback();
          } catch (SQLException rollback) {
            e.addSuppressed(rollback); // the database rolls back a dropped connection itself
          }
          throw e;
        }
      }
    }

    /** Binds one partition row; a value a column cannot hold fails before it is sent. */
    private void bind(PreparedStatement s, GenericRecord r, long asOfEpochDay)
        throws SQLException, IOException {
      Schema schema = table.spec().outputSchema();
      for (int i = 0; i < columns.size(); i++) {
        Column col = columns.get(i);
        Schema.Field f = schema.getField(i);
        Object v = r.get(f.getName());
        int p = i + 1;
        if (i == 1) {
          if (!(v instanceof Integer) || (Integer) v != asOfEpochDay) {
            throw new IOException("a row of as_of_date=" + LocalDate.ofEpochDay(asOfEpochDay)
                + " has as_of_date " + v);
          }
          s.setObject(p, LocalDate.ofEpochDay(asOfEpochDay));
          continue;
        }
        if (v == null) {
          s.setNull(p, col.jdbcType);
          continue;
        }
        switch (f.getType().getTypeName()) {
          case STRING:
            String text = v.toString();
            if (col.size > 0 && col.size < Integer.MAX_VALUE
                && text.codePointCount(0, text.length()) > col.size) {
              throw new IOException("column " + col.describe() + "(" + col.size + ") cannot hold "
                  + (i == 0 ? "the entity " : "a value ") + abbreviate(text) + " of "
                  + text.codePointCount(0, text.length()) + " characters");
            }
            s.setString(p, text);
            break;
          case INT64:
            s.setLong(p, (Long) v);
            break;
          case INT32:
            s.setInt(p, (Integer) v);
            break;
          case BOOLEAN:
            s.setBoolean(p, (Boolean) v);
            break;
          case DOUBLE:
            s.setDouble(p, (Double) v);
            break;
          case DATETIME:
            Instant t = Instant.ofEpochMilli((Long) v);
            // A column without a zone holds the UTC wall time.
            s.setObject(p, col.zoned() ? OffsetDateTime.ofInstant(t, ZoneOffset.UTC)
                : LocalDateTime.ofInstant(t, ZoneOffset.UTC));
            break;
          default:
            throw new IOException("no binding for " + f.getType());
        }
      }
    }

    private static String abbreviate(String text) {
      return "'" + (text.length() <= 40 ? text : text.substring(0, 40) + "…") + "'";
    }
  }
}
