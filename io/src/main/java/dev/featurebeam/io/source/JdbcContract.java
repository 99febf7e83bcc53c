package dev.featurebeam.io.source;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import java.sql.Connection;
import java.sql.JDBCType;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The schema contract of a JDBC source, checked before any row is read: the relation's columns,
 * from the database's metadata of a query that returns no row, are matched to the spec's {@code
 * source_schema} by name (exactly, else ignoring case when that is unambiguous: PostgreSQL folds
 * unquoted names to lower case, MariaDB keeps them), and each matched column's type must be able
 * to carry the declared type. Text columns carry every type (raw landing tables are often all
 * text; their values are parsed as CSV fields are, with the same quarantine reasons).
 */
public final class JdbcContract {
  private JdbcContract() {}

  /** A column as the database describes it. */
  public record Column(String name, JDBCType type, String typeName, int scale)
      implements java.io.Serializable {
    @Override
    public String toString() {
      return name + " " + typeName;
    }
  }

  private static final Set<JDBCType> TEXT = EnumSet.of(JDBCType.CHAR, JDBCType.VARCHAR,
      JDBCType.LONGVARCHAR, JDBCType.NCHAR, JDBCType.NVARCHAR, JDBCType.LONGNVARCHAR,
      JDBCType.CLOB, JDBCType.NCLOB);
  private static final Set<JDBCType> INTEGERS = EnumSet.of(JDBCType.TINYINT, JDBCType.SMALLINT,
      JDBCType.INTEGER, JDBCType.BIGINT);
  private static final Set<JDBCType> DECIMALS = EnumSet.of(JDBCType.NUMERIC, JDBCType.DECIMAL);
  private static final Set<JDBCType> FLOATS = EnumSet.of(JDBCType.REAL, JDBCType.FLOAT,
      JDBCType.DOUBLE);
  private static final Set<JDBCType> BOOLEANS = EnumSet.of(JDBCType.BOOLEAN, JDBCType.BIT);
  private static final Set<JDBCType> TIMES = EnumSet.of(JDBCType.TIMESTAMP,
      JDBCType.TIMESTAMP_WITH_TIMEZONE, JDBCType.DATE);
  /** No declared type reads these: bytes, arrays, structures. */
  private static final Set<JDBCType> OPAQUE = EnumSet.of(JDBCType.BINARY, JDBCType.VARBINARY,
      JDBCType.LONGVARBINARY, JDBCType.BLOB, JDBCType.ARRAY, JDBCType.STRUCT, JDBCType.REF,
      JDBCType.DATALINK, JDBCType.ROWID, JDBCType.SQLXML, JDBCType.JAVA_OBJECT,
      JDBCType.DISTINCT, JDBCType.REF_CURSOR);

  /** The relation's columns, in order, from a query that reads no row. */
  public static List<Column> describe(Connection connection, JdbcRelation relation)
      throws SQLException {
    String sql = "SELECT * FROM " + relation.from(connection.getMetaData()) + " WHERE 1 = 0";
    try (Statement statement = connection.createStatement();
        var rows = statement.executeQuery(sql)) {
      ResultSetMetaData meta = rows.getMetaData();
      List<Column> columns = new ArrayList<>(meta.getColumnCount());
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(new Column(meta.getColumnLabel(i), jdbcType(meta.getColumnType(i)),
            meta.getColumnTypeName(i), meta.getScale(i)));
      }
      return columns;
    }
  }

  private static JDBCType jdbcType(int code) {
    try {
      return JDBCType.valueOf(code);
    } catch (IllegalArgumentException e) {
      return JDBCType.OTHER; // a vendor's own code
    }
  }

  /**
   * Checks {@code columns} against {@code spec}'s source schema and returns, per declared field
   * that has one, its column.
   *
   * @throws SchemaContractException naming the field and the column (or the columns there are)
   */
  public static Map<String, Column> check(FeatureSpec spec, List<Column> columns,
      JdbcRelation relation) {
    Map<String, Column> matched = new LinkedHashMap<>();
    for (FieldSpec field : spec.fields()) {
      Column column = find(field.name(), columns, relation);
      if (column == null) {
        if (field.required()) {
          throw new SchemaContractException("the " + relation.describe() + " has no column for"
              + " the required field '" + field.name() + "' (its columns: " + columns.stream()
              .map(Column::name).collect(Collectors.joining(", ")) + ")");
        }
        continue;
      }
      if (!carries(column, field.type())) {
        throw new SchemaContractException("the column '" + column.name() + "' of the "
            + relation.describe() + " is " + column.typeName() + ", which cannot carry the field '"
            + field.name() + "', declared " + field.type().yamlName());
      }
      matched.put(field.name(), column);
    }
    return matched;
  }

  private static Column find(String name, List<Column> columns, JdbcRelation relation) {
    for (Column c : columns) {
      if (c.name().equals(name)) {
        return c;
      }
    }
    List<Column> folded = columns.stream()
        .filter(c -> c.name().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT)))
        .collect(Collectors.toList());
    if (folded.size() > 1) {
      throw new SchemaContractException("the " + relation.describe() + " has " + folded.size()
          + " columns for the field '" + name + "' that differ only in case: " + folded);
    }
    return folded.isEmpty() ? null : folded.get(0);
  }

  /** Whether a value of {@code column} can be read as {@code type} without losing anything. */
  static boolean carries(Column column, FieldType type) {
    JDBCType t = column.type();
    if (TEXT.contains(t)) {
      return true;
    }
    switch (type) {
      case STRING:
        return !OPAQUE.contains(t);
      case LONG:
        return INTEGERS.contains(t) || (DECIMALS.contains(t) && column.scale() == 0);
      case DOUBLE:
        return INTEGERS.contains(t) || DECIMALS.contains(t) || FLOATS.contains(t);
      case BOOLEAN:
        return BOOLEANS.contains(t);
      case TIMESTAMP:
        // A number is an epoch time, read per the field's timestamp format as in a CSV file.
        return TIMES.contains(t) || INTEGERS.contains(t);
      default:
        return false;
    }
  }
}
