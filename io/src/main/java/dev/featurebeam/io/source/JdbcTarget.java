package dev.featurebeam.io.source;

import static com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Function;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.jdbc.JdbcIO;

/**
 * A JDBC source's database: the URL without its password, the user and the password. The
 * password comes from an environment variable the command line names, else from the URL's {@code
 * password=} parameter (taken out of it), else, for PostgreSQL, from {@code PGPASSWORD} as psql
 * takes it (the PostgreSQL driver reads {@code .pgpass} itself, not that variable); it is never part
 * of {@link #displayUrl}, of a message, or of display data. The user comes from the command line or
 * from {@code user=} in the URL.
 */
public final class JdbcTarget implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String url;
  private final @Nullable String user;
  private final @Nullable String password;

  private JdbcTarget(String url, @Nullable String user, @Nullable String password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  public static boolean isJdbc(@Nullable String source) {
    return source != null && source.startsWith("jdbc:");
  }

  /**
   * Parses {@code source}; {@code user} and {@code passwordEnv} are the command line's, either
   * may be null; {@code env} reads the environment.
   */
  public static JdbcTarget parse(String source, @Nullable String user,
      @Nullable String passwordEnv, Function<String, String> env) {
    checkArgument(isJdbc(source), "a JDBC URL starts with jdbc:");
    String password = null;
    String urlUser = null;
    String base = source;
    List<String> kept = new ArrayList<>();
    int q = source.indexOf('?');
    if (q >= 0) {
      base = source.substring(0, q);
      for (String param : source.substring(q + 1).split("&")) {
        String name = param.contains("=") ? param.substring(0, param.indexOf('=')) : param;
        String value = param.contains("=") ? param.substring(param.indexOf('=') + 1) : "";
        if (name.equalsIgnoreCase("password")) {
          password = value;
        } else if (name.equalsIgnoreCase("user")) {
          urlUser = value;
        } else if (!param.isEmpty()) {
          kept.add(param);
        }
      }
    }
    if (passwordEnv != null) {
      String fromEnv = env.apply(passwordEnv);
      checkArgument(fromEnv != null, "--jdbcPasswordEnv=%s: no such environment variable",
          passwordEnv);
      password = fromEnv;
    } else if (password == null && base.startsWith("jdbc:postgresql:")) {
      password = env.apply("PGPASSWORD");
    }
    String url = kept.isEmpty() ? base : base + "?" + String.join("&", kept);
    return new JdbcTarget(url, user != null ? user : urlUser, password);
  }

  /** The URL as the report, the lineage and messages show it: no password, with the user. */
  public String displayUrl() {
    return user == null ? url : url + (url.contains("?") ? "&" : "?") + "user=" + user;
  }

  public Connection connect() throws SQLException {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    try {
      return DriverManager.getConnection(url, p);
    } catch (SQLException e) {
      throw new SQLException(redact(e.getMessage()), e.getSQLState(), e.getErrorCode());
    }
  }

  /** Beam's JdbcIO configuration of this database (its display data shows no password). */
  public JdbcIO.DataSourceConfiguration configuration() throws SQLException {
    String driver;
    try {
      driver = DriverManager.getDriver(url).getClass().getName();
    } catch (SQLException e) {
      throw new SQLException("no JDBC driver on the class path takes " + displayUrl(), e);
    }
    JdbcIO.DataSourceConfiguration c = JdbcIO.DataSourceConfiguration.create(driver, url);
    if (user != null) {
      c = c.withUsername(user);
    }
    if (password != null) {
      c = c.withPassword(password);
    }
    return c;
  }

  /** {@code message} without the password, should a driver repeat it. */
  public String redact(@Nullable String message) {
    if (message == null) {
      return "";
    }
    return password == null || password.isEmpty() ? message : message.replace(password, "***");
  }

  @Override
  public String toString() {
    return displayUrl();
  }
}
