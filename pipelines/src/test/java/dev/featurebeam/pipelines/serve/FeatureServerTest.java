package dev.featurebeam.pipelines.serve;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.pipelines.OnlineFixture;
import dev.featurebeam.pipelines.PrivateRedis;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * The HTTP feature server over states that {@code batch --onlineStore} loaded into the machine's
 * Redis (database 13): values worked out by hand for one entity and a batch, every kind of bad
 * request with its status, the metrics, a Redis that does not answer, a server whose threads and
 * queue are full, and a private Redis killed and restarted while clients keep asking.
 */
class FeatureServerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STORE = "redis://127.0.0.1:6379/13";
  /** Ten minutes after the states' watermark (2025-01-11T00:00Z). */
  private static final String A = "2025-01-11T00:10:00Z";
  private static final String B = "2025-01-12T00:00:00Z";
  private static final String U1_AT_A = "{\"user_id\":\"u1\",\"n_1h\":1,\"amt_sum_2d\":10.0,"
      + "\"last_type\":\"view\",\"dsl\":0,\"active_30m\":true,\"last_seen\":\"2025-01-10T23:40:00Z\"}";

  @TempDir static Path dir;
  private static Path specFile;
  private static FeatureServer server;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    OnlineFixture.empty(13);
    specFile = OnlineFixture.load(dir, STORE);
    server = FeatureServer.start(OnlineFeatures.open(OnlineFixture.spec(), STORE, 4), "127.0.0.1",
        0, 4, 16, () -> Instant.parse(B).toEpochMilli(), System.err);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void oneEntityAnswersTheValuesAtTheInstant() throws Exception {
    HttpResponse<String> r = get(server, "/v1/features/pit/v1/u1?at=" + A);
    assertThat(r.body(), r.statusCode(), equalTo(200));
    assertThat(r.headers().firstValue("Content-Type").orElse(""), equalTo("application/json"));
    assertThat(JSON.readTree(r.body()), equalTo(JSON.readTree(
        "{\"feature_set\":\"pit\",\"version\":1,\"at\":\"" + A + "\",\"freshness_ms\":600000,"
            + "\"rows\":[" + U1_AT_A + "]}")));
    // an entity with a slash and a space, percent-encoded in the path
    JsonNode odd = JSON.readTree(get(server, "/v1/features/pit/v1/a%2Fb%20c?at=" + A).body());
    assertThat(odd.get("rows").get(0).get("user_id").asText(), equalTo("a/b c"));
    assertThat(odd.get("rows").get(0).get("last_seen").asText(), equalTo("2025-01-10T01:00:00Z"));
  }

  @Test
  void withoutAtTheInstantIsNow() throws Exception {
    JsonNode r = JSON.readTree(get(server, "/v1/features/pit/v1/u1").body());
    assertThat(r.get("at").asText(), equalTo(B)); // the test's clock
    assertThat(r.get("freshness_ms").asLong(), equalTo(86_400_000L));
    assertThat(r.get("rows").get(0).get("dsl").asInt(), equalTo(1));
  }

  @Test
  void aBatchAnswersEachEntityInItsOrderAndTheStalestFreshness() throws Exception {
    HttpResponse<String> r = post(server, "/v1/features/pit/v1",
        "{\"entities\": [\"nobody\", \"u1\", \"u2\", \"u1\"], \"at\": \"2025-01-11T01:10:00+01:00\"}");
    assertThat(r.body(), r.statusCode(), equalTo(200));
    String nobody = "{\"user_id\":\"nobody\",\"n_1h\":0,\"amt_sum_2d\":null,\"last_type\":null,"
        + "\"dsl\":null,\"active_30m\":false,\"last_seen\":null}";
    String u2 = "{\"user_id\":\"u2\",\"n_1h\":0,\"amt_sum_2d\":null,\"last_type\":\"view\","
        + "\"dsl\":0,\"active_30m\":false,\"last_seen\":\"2025-01-10T11:30:00Z\"}";
    assertThat(JSON.readTree(r.body()), equalTo(JSON.readTree(
        "{\"feature_set\":\"pit\",\"version\":1,\"at\":\"" + A + "\",\"freshness_ms\":600000,"
            + "\"rows\":[" + nobody + "," + U1_AT_A + "," + u2 + "," + U1_AT_A + "]}")));
    // epoch milliseconds for at; only unknown entities: no freshness
    JsonNode none = JSON.readTree(post(server, "/v1/features/pit/v1",
        "{\"entities\": [\"nobody\"], \"at\": " + Instant.parse(A).toEpochMilli() + "}").body());
    assertThat(none.get("at").asText(), equalTo(A));
    assertThat(none.get("freshness_ms").isNull(), equalTo(true));
  }

  @Test
  void badRequestsAreAnsweredWithTheirStatusAndWhatIsWrong() throws Exception {
    expect(get(server, "/v1/features/pit/v1/u1?at=yesterday"), 400, "'yesterday' is not an instant");
    expect(get(server, "/v1/features/pit/v1/u1?at=" + A + "&limit=3"), 400, "unknown parameter 'limit'");
    expect(get(server, "/v1/features/other/v1/u1"), 404, "serves pit v1, not other v1");
    expect(get(server, "/v1/features/pit/v2/u1"), 404, "serves pit v1, not pit v2");
    expect(get(server, "/v2/anything"), 404, "no such path");
    expect(get(server, "/v1/features/pit/v1/u1/extra"), 404, "no such path");
    expect(get(server, "/v1/features/pit/v1/u1?at=2025-01-10T23:39:59Z"), 409, "training-set");
    HttpResponse<String> wrongMethod = post(server, "/v1/features/pit/v1/u1", "{}");
    expect(wrongMethod, 405, "use GET");
    assertThat(wrongMethod.headers().firstValue("Allow").orElse(""), equalTo("GET"));
    expect(get(server, "/v1/features/pit/v1"), 405, "use POST");
    String batch = "/v1/features/pit/v1";
    expect(post(server, batch, "{\"entities\": [\"u1\""), 400, "not JSON");
    expect(post(server, batch, "[\"u1\"]"), 400, "must be a JSON object");
    expect(post(server, batch, "{\"at\": \"" + A + "\"}"), 400, "\"entities\" must be an array");
    expect(post(server, batch, "{\"entities\": [{\"id\": 1}]}"), 400, "must be a string");
    expect(post(server, batch, "{\"entities\": [\"u1\"], \"as_of\": 1}"), 400, "unknown field \"as_of\"");
    expect(post(server, batch, "{\"entities\": [\"u1\"], \"at\": true}"), 400, "\"at\" must be");
    expect(post(server, batch, "{\"entities\": [\"u1\"], \"at\": \"" + "2025-01-10\"}"), 409,
        "training-set");
    StringBuilder many = new StringBuilder("{\"entities\": [");
    for (int i = 0; i <= FeatureServer.MAX_ENTITIES; i++) {
      many.append(i == 0 ? "" : ",").append("\"u").append(i).append('"');
    }
    expect(post(server, batch, many.append("]}").toString()), 400, "at most 1000 entities");
    String huge = "{\"entities\": [\"" + "x".repeat(FeatureServer.MAX_BODY_BYTES) + "\"]}";
    expect(post(server, batch, huge), 413, "over 1048576 bytes");
    // the server still answers after all of that
    assertThat(get(server, "/v1/features/pit/v1/u1?at=" + A).statusCode(), equalTo(200));
  }

  @Test
  void healthAndMetrics() throws Exception {
    HttpResponse<String> health = get(server, "/health");
    assertThat(health.statusCode(), equalTo(200));
    assertThat(JSON.readTree(health.body()).get("status").asText(), equalTo("ok"));
    FeatureServer own = FeatureServer.start(OnlineFeatures.open(OnlineFixture.spec(), STORE), "127.0.0.1",
        0, 2, 4);
    try {
      for (int i = 0; i < 3; i++) {
        get(own, "/v1/features/pit/v1/u1?at=" + A);
      }
      get(own, "/v1/features/pit/v1/u1?at=bad");
      post(own, "/v1/features/pit/v1", "{\"entities\": [\"u1\", \"nobody\", \"u2\"], \"at\": \"" + A + "\"}");
      HttpResponse<String> m = get(own, "/metrics");
      assertThat(m.statusCode(), equalTo(200));
      assertThat(m.headers().firstValue("Content-Type").orElse(""), containsString("text/plain"));
      String text = m.body();
      assertThat(text, containsString(
          "featurebeam_serve_requests_total{endpoint=\"entity\",status=\"200\"} 3.0\n"));
      assertThat(text, containsString(
          "featurebeam_serve_requests_total{endpoint=\"entity\",status=\"400\"} 1.0\n"));
      assertThat(text, containsString(
          "featurebeam_serve_requests_total{endpoint=\"batch\",status=\"200\"} 1.0\n"));
      assertThat(text, containsString("featurebeam_serve_entities_total 6.0\n"));
      assertThat(text, containsString("featurebeam_serve_entities_not_held_total 1.0\n"));
      assertThat(text, containsString(
          "featurebeam_serve_request_duration_seconds_count{endpoint=\"entity\"} 4\n"));
    } finally {
      own.close();
    }
  }

  @Test
  void aRedisThatDoesNotAnswerIsA503WithoutItsPassword() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    FeatureServer down = FeatureServer.start(OnlineFeatures.open(OnlineFixture.spec(),
        "redis://app:s3cret@127.0.0.1:" + closed + "/0"), "127.0.0.1", 0, 2, 4,
        System::currentTimeMillis, new PrintStream(errors, true));
    try {
      HttpResponse<String> r = get(down, "/v1/features/pit/v1/u1");
      expect(r, 503, "does not answer");
      assertThat(r.body(), containsString("127.0.0.1:" + closed));
      assertThat(r.headers().firstValue("Retry-After").orElse(""), equalTo("1"));
      HttpResponse<String> health = get(down, "/health");
      expect(health, 503, "does not answer");
      assertThat(r.body() + health.body() + errors, not(containsString("s3cret")));
    } finally {
      down.close();
    }
  }

  /**
   * A "Redis" that accepts connections and never answers holds each request for the client's 2 s
   * timeout; with one thread and one waiting place, the other requests sent meanwhile are answered
   * 503 at once, not queued without bound.
   */
  @Test
  void aFullServerAnswers503AtOnce() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> accepted = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            accepted.add(silent.accept());
          }
        } catch (IOException e) {
          // closed
        }
      });
      acceptor.start();
      FeatureServer busy = FeatureServer.start(OnlineFeatures.open(OnlineFixture.spec(),
          "redis://127.0.0.1:" + silent.getLocalPort() + "/0", 1), "127.0.0.1", 0, 1, 1);
      ExecutorService clients = Executors.newFixedThreadPool(6);
      try {
        List<Future<long[]>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          calls.add(clients.submit(() -> {
            long t0 = System.nanoTime();
            HttpResponse<String> r = get(busy, "/v1/features/pit/v1/u1");
            boolean full = r.statusCode() == 503 && r.body().contains("busy");
            return new long[] {r.statusCode(), full ? 1 : 0, (System.nanoTime() - t0) / 1_000_000};
          }));
          Thread.sleep(50);
        }
        int full = 0;
        for (Future<long[]> f : calls) {
          long[] r = f.get(30, TimeUnit.SECONDS);
          assertThat(r[0], equalTo(503L)); // busy, or the silent Redis timed out
          if (r[1] == 1) {
            full++;
            assertThat("a busy answer waits for nothing", r[2], lessThan(1_000L));
          }
        }
        assertThat(full, greaterThanOrEqualTo(3));
      } finally {
        clients.shutdownNow();
        busy.close();
        silent.close();
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  /**
   * A private redis-server is killed (SIGKILL) and started again on its port while four clients
   * keep asking: every answer is the right values or a 503, none hangs past the client's timeout,
   * and the server answers again once Redis is back, without a restart of its own.
   */
  @Test
  void redisKilledAndRestartedUnderLoad() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path data = Files.createDirectories(dir.resolve("private-redis"));
    Process redis = PrivateRedis.start(port, data);
    String url = "redis://127.0.0.1:" + port + "/0";
    Path loadDir = Files.createDirectories(dir.resolve("private-load"));
    OnlineFixture.load(loadDir, url);
    try (Jedis j = new Jedis("127.0.0.1", port)) {
      j.save(); // the restarted server loads this dump
    }
    FeatureServer served = FeatureServer.start(OnlineFeatures.open(OnlineFixture.spec(), url, 4),
        "127.0.0.1", 0, 4, 64);
    String expected = JSON.readTree("{\"feature_set\":\"pit\",\"version\":1,\"at\":\"" + A
        + "\",\"freshness_ms\":600000,\"rows\":[" + U1_AT_A + "]}").toString();
    AtomicBoolean running = new AtomicBoolean(true);
    Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
    AtomicLong wrong = new AtomicLong();
    AtomicLong slowest = new AtomicLong();
    AtomicLong okAfterRestart = new AtomicLong();
    AtomicBoolean restarted = new AtomicBoolean();
    ExecutorService clients = Executors.newFixedThreadPool(4);
    List<Future<?>> loops = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        loops.add(clients.submit(() -> {
          while (running.get()) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = get(served, "/v1/features/pit/v1/u1?at=" + A);
            slowest.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
            statuses.computeIfAbsent(r.statusCode(), k -> new AtomicLong()).incrementAndGet();
            if (r.statusCode() == 200) {
              if (!JSON.readTree(r.body()).toString().equals(expected)) {
                wrong.incrementAndGet();
              }
              if (restarted.get()) {
                okAfterRestart.incrementAndGet();
              }
            }
          }
          return null;
        }));
      }
      Thread.sleep(1_000);
      redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      Thread.sleep(3_000);
      redis = PrivateRedis.start(port, data);
      restarted.set(true);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (okAfterRestart.get() < 100 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      running.set(false);
      for (Future<?> f : loops) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertThat(statuses.keySet() + " only 200 and 503",
          statuses.keySet().stream().allMatch(s -> s == 200 || s == 503), equalTo(true));
      assertThat(statuses.get(503).get(), greaterThan(0L));
      assertThat(okAfterRestart.get(), greaterThanOrEqualTo(100L));
      assertThat(wrong.get(), equalTo(0L));
      assertThat("no answer waits past the Redis timeout", slowest.get(), lessThan(5_000L));
    } finally {
      running.set(false);
      clients.shutdownNow();
      served.close();
      redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static void expect(HttpResponse<String> r, int status, String text) throws IOException {
    assertThat(r.body(), r.statusCode(), equalTo(status));
    assertThat(JSON.readTree(r.body()).get("error").asText(), containsString(text));
  }

  private static HttpResponse<String> get(FeatureServer s, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(s.uri() + path)).timeout(Duration.ofSeconds(10))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(FeatureServer s, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(s.uri() + path)).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
