package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where a JDBC source's user and password come from, and that the password is never shown. */
class JdbcTargetTest {
  private static final Map<String, String> ENV = Map.of("FB_PW", "from-env");

  @Test
  void thePasswordIsTakenOutOfTheUrl() {
    JdbcTarget t = JdbcTarget.parse(
        "jdbc:postgresql://db:5432/shop?ssl=true&user=etl&password=s3cr3t&tcpKeepAlive=true",
        null, null, ENV::get);
    assertThat(t.displayUrl(),
        equalTo("jdbc:postgresql://db:5432/shop?ssl=true&tcpKeepAlive=true&user=etl"));
    assertThat(t.toString(), not(containsString("s3cr3t")));
    assertThat(t.redact("login failed for etl with s3cr3t"),
        equalTo("login failed for etl with ***"));
  }

  @Test
  void theCommandLineUserAndEnvironmentPasswordWin() {
    JdbcTarget t = JdbcTarget.parse("jdbc:mariadb://db/shop?user=a&password=url-pw", "b",
        "FB_PW", ENV::get);
    assertThat(t.displayUrl(), equalTo("jdbc:mariadb://db/shop?user=b"));
    assertThat(t.redact("x from-env y url-pw"), equalTo("x *** y url-pw"));
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> JdbcTarget.parse("jdbc:mariadb://db/shop", null, "NO_SUCH_VAR", ENV::get));
    assertThat(missing.getMessage(), containsString("NO_SUCH_VAR"));
  }

  @Test
  void postgresTakesPgpasswordWhenNothingElseGivesOne() {
    Map<String, String> env = Map.of("PGPASSWORD", "pg-env-pw", "FB_PW", "from-env");
    assertThat(JdbcTarget.parse("jdbc:postgresql://db/shop?user=etl", null, null, env::get)
        .redact("a pg-env-pw b"), equalTo("a *** b"));
    // The URL's and the named variable's password win over it; other databases ignore it.
    assertThat(JdbcTarget.parse("jdbc:postgresql://db/shop?password=url-pw", null, null, env::get)
        .redact("pg-env-pw url-pw"), equalTo("pg-env-pw ***"));
    assertThat(JdbcTarget.parse("jdbc:postgresql://db/shop", null, "FB_PW", env::get)
        .redact("pg-env-pw from-env"), equalTo("pg-env-pw ***"));
    assertThat(JdbcTarget.parse("jdbc:mariadb://db/shop", null, null, env::get)
        .redact("pg-env-pw"), equalTo("pg-env-pw"));
  }
}
