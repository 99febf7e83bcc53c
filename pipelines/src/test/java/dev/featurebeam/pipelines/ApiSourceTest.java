package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.AsOfRange;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch run's API source from its options: headers come from the environment and go to the
 * server, never into a message; one paging style at a time; the run's time range goes into the
 * URL as far as the spec allows.
 */
class ApiSourceTest {
  /** Windowed features only, with dedup_within: a run can say where it starts. */
  private static final String WINDOWED = String.join("\n",
      "feature_set: api_test", "version: 1", "entity: user_id", "timestamp: ts",
      "dedup_key: event_id", "dedup_within: 2d", "source_schema:",
      "  event_id: {type: string, required: true}", "  user_id: {type: string, required: true}",
      "  ts: {type: timestamp, required: true}", "features:",
      "  - {name: events_7d, agg: count, window: 7d}", "");
  private static final String WHOLE_HISTORY =
      WINDOWED + "  - {name: days_since, agg: days_since_last}\n";
  private static final AsOfRange RANGE =
      AsOfRange.of(LocalDate.parse("2025-01-20"), LocalDate.parse("2025-01-24"));

  @TempDir Path tmp;

  private static BatchOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(BatchOptions.class);
  }

  @Test
  void headersComeFromTheEnvironmentAndAreNeverShown() throws Exception {
    List<String> seen = new ArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/e", ex -> {
      seen.add(ex.getRequestHeaders().getFirst("Authorization") + " | "
          + ex.getRequestHeaders().getFirst("X-Tenant") + " | " + ex.getRequestURI().getQuery());
      byte[] body = ("{\"error\":\"token " + ex.getRequestHeaders().getFirst("Authorization")
          + " expired\"}").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(401, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    server.start();
    try {
      String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/e";
      FeatureSpec spec = SpecParser.parse(WINDOWED);
      ApiSource source = ApiSource.of(options("--httpHeaderEnv=Authorization=FB_TOKEN",
          "--httpHeaderEnv=X-Tenant=FB_TENANT", "--sinceParam=since", "--untilParam=until",
          "--timeParamFormat=epoch_millis"), url, spec, RANGE,
          Map.of("FB_TOKEN", "Bearer s3cr3t-tok", "FB_TENANT", "acme")::get);
      List<String> notices = new ArrayList<>();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> source.land(source.landingDir(tmp, spec), notices::add));
      // The 7d window before the first as-of instant 2025-01-21T00:00Z, less dedup_within 2d:
      // 2025-01-12T00:00Z; the end is the last as-of instant, 2025-01-25T00:00Z. 401: one try.
      assertThat(seen, equalTo(List.of(
          "Bearer s3cr3t-tok | acme | since=1736640000000&until=1737763200000")));
      assertThat(e.getMessage(), allOf(containsString("--source=" + url),
          containsString("HTTP 401"), containsString("token *** expired"),
          not(containsString("s3cr3t"))));
      assertThat(String.join("\n", notices), not(containsString("s3cr3t")));
    } finally {
      server.stop(0);
    }
  }

  @Test
  void theStartIsNotSentWhenAFeatureReadsTheWholeHistory() {
    FeatureSpec spec = SpecParser.parse(WHOLE_HISTORY);
    ApiSource source = ApiSource.of(options("--sinceParam=since", "--untilParam=until"),
        "https://api.example.com/v1/events", spec, RANGE, Map.<String, String>of()::get);
    assertThat(source.request.firstUri().toString(),
        equalTo("https://api.example.com/v1/events?until=2025-01-25T00%3A00%3A00Z"));
  }

  @Test
  void badOptionsAreRefusedNamingThem() {
    FeatureSpec spec = SpecParser.parse(WINDOWED);
    String url = "https://api.example.com/v1/events";
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiSource.of(
        options("--httpHeaderEnv=Authorization=NO_SUCH_VAR"), url, spec, RANGE,
        Map.<String, String>of()::get)).getMessage(),
        containsString("no environment variable NO_SUCH_VAR"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiSource.of(
        options("--cursorField=next", "--pageParam=page"), url, spec, RANGE,
        Map.<String, String>of()::get)).getMessage(),
        containsString("one way of paging, not --cursorField and --pageParam"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiSource.of(
        options("--timeParamFormat=unix"), url, spec, RANGE, Map.<String, String>of()::get))
        .getMessage(), containsString("--timeParamFormat=unix"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiSource.of(
        options("--httpTimeout=soon"), url, spec, RANGE, Map.<String, String>of()::get))
        .getMessage(), containsString("--httpTimeout=soon"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> ApiSource.refuseOptions(options("--cursorField=next"))).getMessage(),
        containsString("for an http:// or https:// source"));
  }
}
