package dev.featurebeam.io.sink;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import org.apache.beam.sdk.schemas.Schema;

/**
 * What the JDBC feature table needs to know of one database beyond JDBC itself: the column types
 * it creates for the partition's Beam types, and the table options that make a date's
 * replacement one transaction. Only the databases the tests run on are known; any other stops
 * the run before any work rather than guess at types.
 */
enum SqlDialect {
  POSTGRESQL {
    @Override
    String entityType(int length) {
      return "TEXT";
    }

    @Override
    String type(Schema.TypeName type) {
      switch (type) {
        case INT64:
          return "BIGINT";
        case INT32:
          return "INTEGER";
        case BOOLEAN:
          return "BOOLEAN";
        case DOUBLE:
          return "DOUBLE PRECISION";
        case STRING:
          return "TEXT";
        case DATETIME:
          return "TIMESTAMP(3) WITH TIME ZONE";
        default:
          throw new IllegalArgumentException("no PostgreSQL type for " + type);
      }
    }

    @Override
    String tableOptions() {
      return "";
    }

    @Override
    Optional<String> nonTransactionalEngine(Connection c, String table) {
      return Optional.empty();
    }
  },

  MARIADB {
    /**
     * InnoDB cannot key on TEXT: the entity is a bounded VARCHAR. Binary, no-pad collation, so
     * that "u1", "U1" and "u1 " stay three entities as they are three in the Parquet store (the
     * default collations ignore case and trailing spaces).
     */
    @Override
    String entityType(int length) {
      return "VARCHAR(" + length + ") CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin";
    }

    @Override
    String type(Schema.TypeName type) {
      switch (type) {
        case INT64:
          return "BIGINT";
        case INT32:
          return "INT";
        case BOOLEAN:
          return "BOOLEAN";
        case DOUBLE:
          return "DOUBLE";
        case STRING:
          return "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin";
        case DATETIME:
          // DATETIME holds the UTC wall time as given; TIMESTAMP would convert through the
          // session's zone and ends in 2038.
          return "DATETIME(3)";
        default:
          throw new IllegalArgumentException("no MariaDB type for " + type);
      }
    }

    @Override
    String tableOptions() {
      return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin";
    }

    /** A MyISAM or Aria table would show a reader half a date: it has no transactions. */
    @Override
    Optional<String> nonTransactionalEngine(Connection c, String table) throws SQLException {
      try (PreparedStatement s = c.prepareStatement("SELECT ENGINE FROM information_schema.TABLES"
          + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?")) {
        s.setString(1, table);
        try (ResultSet r = s.executeQuery()) {
          if (r.next() && r.getString(1) != null
              && !r.getString(1).equalsIgnoreCase("InnoDB")) {
            return Optional.of(r.getString(1));
          }
          return Optional.empty();
        }
      }
    }
  };

  /** The entity column's type; {@code length} bounds it where the database needs a bound. */
  abstract String entityType(int length);

  /** The column type of a feature of Beam type {@code type}. */
  abstract String type(Schema.TypeName type);

  /** What follows the column list in CREATE TABLE. */
  abstract String tableOptions();

  /** The table's storage engine when it cannot roll back, else empty. */
  abstract Optional<String> nonTransactionalEngine(Connection c, String table)
      throws SQLException;

  /**
   * The dialect of a connected database, from its product name.
   *
   * @throws IllegalArgumentException for a database this sink does not know
   */
  static SqlDialect of(DatabaseMetaData meta) throws SQLException {
    String product = meta.getDatabaseProductName();
    String p = product == null ? "" : product.toLowerCase(Locale.ROOT);
    if (p.contains("postgresql")) {
      return POSTGRESQL;
    }
    if (p.contains("mariadb")) {
      return MARIADB;
    }
    throw new IllegalArgumentException("the JDBC feature table is written to PostgreSQL or"
        + " MariaDB; this database is " + product);
  }
}
