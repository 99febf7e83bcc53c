package dev.featurebeam.io.source;

import static com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * What a JDBC source reads: a table ({@code --table}) or the user's own query ({@code --query}).
 * A table name is checked as an identifier (optionally {@code schema.table}) and quoted with the
 * database's own quote; a query is the user's SQL, used only as a subquery, so that bounds and
 * checks wrap it without pasting anything into it.
 */
public final class JdbcRelation implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Letters, digits, _ and $, not starting with a digit: no quote, space or punctuation. */
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");

  private final String table;
  private final String query;

  private JdbcRelation(String table, String query) {
    this.table = table;
    this.query = query;
  }

  /**
   * A table, {@code name} or {@code schema.name}.
   *
   * @throws IllegalArgumentException when a part is not a plain identifier
   */
  public static JdbcRelation table(String name) {
    checkArgument(name != null && !name.isEmpty(), "--table needs a name");
    for (String part : name.split("\\.", -1)) {
      if (!IDENTIFIER.matcher(part).matches()) {
        throw new IllegalArgumentException("--table=" + name + " is not a table name: each part"
            + " of schema.table must be letters, digits, _ or $, not starting with a digit");
      }
    }
    checkArgument(name.split("\\.").length <= 2, "--table=%s: at most schema.table", name);
    return new JdbcRelation(name, null);
  }

  /** The user's query; it must be one SELECT that can stand as a subquery. */
  public static JdbcRelation query(String sql) {
    checkArgument(sql != null && !sql.isBlank(), "--query needs SQL");
    String trimmed = sql.strip();
    while (trimmed.endsWith(";")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1).strip();
    }
    checkArgument(!trimmed.contains(";"), "--query must be a single statement");
    return new JdbcRelation(null, trimmed);
  }

  public boolean isTable() {
    return table != null;
  }

  /** How the run's report and errors name it. */
  public String describe() {
    return table != null ? "table " + table : "query (" + query + ")";
  }

  /**
   * What follows FROM: the quoted table, or the query as a subquery with an alias. The quote is
   * the database's ({@link DatabaseMetaData#getIdentifierQuoteString}), e.g. " or `.
   */
  public String from(DatabaseMetaData meta) throws SQLException {
    if (table == null) {
      return "(" + query + ") fb_source";
    }
    String quote = meta.getIdentifierQuoteString();
    StringBuilder out = new StringBuilder();
    for (String part : table.split("\\.")) {
      if (out.length() > 0) {
        out.append('.');
      }
      out.append(quote(part, quote));
    }
    return out.toString();
  }

  /**
   * {@code name} quoted with {@code quote} (a quote inside doubled); as it is when the database
   * has no quote ({@code quote} null or blank).
   */
  static String quote(String name, @Nullable String quote) {
    if (quote == null || quote.isBlank()) {
      return name;
    }
    String q = quote.strip();
    return q + name.replace(q, q + q) + q;
  }

  @Override
  public String toString() {
    return describe();
  }
}
