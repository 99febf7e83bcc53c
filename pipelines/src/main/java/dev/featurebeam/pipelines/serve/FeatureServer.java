package dev.featurebeam.pipelines.serve;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.pipelines.online.FeatureRow;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import javax.annotation.Nullable;
import org.joda.time.ReadableInstant;

/**
 * The HTTP JSON feature server over {@link OnlineFeatures}, on the JDK's own HTTP server:
 *
 * <pre>
 * GET  /v1/features/FS/vVERSION/ENTITY[?at=INSTANT]
 * POST /v1/features/FS/vVERSION   {"entities": ["u1", ...], "at": INSTANT}
 *   -> {"feature_set", "version", "at", "freshness_ms", "rows": [{ENTITY_COLUMN: "u1", FEATURE: value, ...}]}
 * GET  /health    200, or 503 when Redis does not answer
 * GET  /metrics   Prometheus text format
 * </pre>
 *
 * <p>Bounded: {@code threads} requests run at once and {@code queue} more wait; a request beyond
 * them is answered 503 at once on the accepting thread, without touching Redis (the JDK server
 * would otherwise close the connection unanswered). A request body is at most {@link
 * #MAX_BODY_BYTES} and a batch at most {@link #MAX_ENTITIES} entities. Errors are JSON {@code
 * {"error": ...}}: 400 malformed, 404 unknown path or feature set, 405 wrong method, 409 an instant
 * before the stored state (points to training-set), 413 too large, 503 Redis unreachable or the
 * server full. No message carries Redis credentials: the store names itself by host, port and
 * database only.
 */
public final class FeatureServer implements AutoCloseable {
  public static final int MAX_BODY_BYTES = 1 << 20;
  public static final int MAX_ENTITIES = 1_000;
  /** How much of a body over the limit is read and dropped before the 413 (see tooLarge). */
  static final long SWALLOW_BYTES = 4L * MAX_BODY_BYTES;
  private static final String API = "/v1/features/";
  private static final JsonFactory JSON_FACTORY = new JsonFactory();
  private static final ObjectMapper JSON = new ObjectMapper(JSON_FACTORY);
  /** Set on the accepting thread while it answers a request the pool could not take. */
  private static final ThreadLocal<Boolean> OVERLOADED = new ThreadLocal<>();

  private final OnlineFeatures features;
  private final LongSupplier clock;
  private final PrintStream errors;
  private final String featureSet;
  private final String version;
  private final String entityColumn;
  private final ServerMetrics metrics = new ServerMetrics();
  private final ThreadPoolExecutor pool;
  private final HttpServer http;
  private final int threads;
  private final int queue;

  private FeatureServer(OnlineFeatures features, InetSocketAddress address, int threads,
      int queue, LongSupplier clock, PrintStream errors) throws IOException {
    this.features = features;
    this.clock = clock;
    this.errors = errors;
    this.featureSet = features.spec().featureSet();
    this.version = "v" + features.spec().version();
    this.entityColumn = features.spec().entity();
    this.threads = threads;
    this.queue = queue;
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(queue), r -> {
          Thread t = new Thread(r, "featurebeam-serve-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, (task, executor) -> {
          OVERLOADED.set(Boolean.TRUE);
          try {
            task.run();
          } finally {
            OVERLOADED.remove();
          }
        });
    configureJdkServer();
    this.http = HttpServer.create(address, queue);
    http.createContext("/", this::handle);
    http.setExecutor(pool);
  }

  /**
   * Starts serving {@code features} on {@code host:port} (port 0: a free one) with {@code threads}
   * threads and {@code queue} waiting requests. Redis need not answer yet: {@code /health} tells.
   */
  public static FeatureServer start(OnlineFeatures features, String host, int port, int threads,
      int queue) throws IOException {
    return start(features, host, port, threads, queue, System::currentTimeMillis, System.err);
  }

  /** As {@link #start(OnlineFeatures, String, int, int, int)}, with the clock "now" reads and
   * where an unexpected failure's stack trace goes. */
  public static FeatureServer start(OnlineFeatures features, String host, int port, int threads,
      int queue, LongSupplier clock, PrintStream errors) throws IOException {
    checkNotNull(features, "the online features to serve are needed");
    checkArgument(host != null && !host.isBlank(), "a host to listen on is needed");
    checkArgument(port >= 0 && port <= 65_535, "--port must be 0 to 65535, not %s", port);
    checkArgument(threads >= 1, "--threads must be at least 1, not %s", threads);
    checkArgument(queue >= 1, "--queue must be at least 1, not %s", queue);
    FeatureServer server = new FeatureServer(features, new InetSocketAddress(host, port), threads,
        queue, clock, errors);
    server.http.start();
    return server;
  }

  /**
   * The JDK server's own limits are system properties it reads once: a request must arrive
   * within 30 s (a client that trickles bytes cannot hold a connection for good), and responses
   * go out without Nagle's delay. A value the user set wins.
   */
  private static void configureJdkServer() {
    System.getProperties().putIfAbsent("sun.net.httpserver.maxReqTime", "30");
    System.getProperties().putIfAbsent("sun.net.httpserver.nodelay", "true");
  }

  public int port() {
    return http.getAddress().getPort();
  }

  /** The address to call, e.g. {@code http://127.0.0.1:8080}. */
  public URI uri() {
    InetSocketAddress a = http.getAddress();
    String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getHostString();
    return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
  }

  /** What {@code /v1/features/...} serves: the spec's feature set and version. */
  public String describe() {
    return featureSet + " " + version;
  }

  /** Stops accepting, lets running requests finish (at most a second), closes the store. */
  @Override
  public void close() {
    http.stop(1);
    pool.shutdown();
    try {
      pool.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    features.close();
  }

  private void handle(HttpExchange exchange) throws IOException {
    long start = System.nanoTime();
    String endpoint = "other";
    Reply reply;
    try {
      String path = exchange.getRequestURI().getRawPath();
      if (path.startsWith(API)) {
        endpoint = path.indexOf('/', path.indexOf('/', API.length()) + 1) < 0 ? "batch" : "entity";
      } else if (path.equals("/health")) {
        endpoint = "health";
      } else if (path.equals("/metrics")) {
        endpoint = "metrics";
      }
      if (OVERLOADED.get() != null) {
        metrics.overloaded();
        reply = Reply.error(503, "the server is busy (" + threads + " requests running, " + queue
            + " waiting); try again").header("Retry-After", "1");
      } else {
        reply = route(exchange, path);
      }
    } catch (BadRequest e) {
      reply = Reply.error(e.status, e.getMessage());
      if (e.allow != null) {
        reply.header("Allow", e.allow);
      }
    } catch (OnlineFeatures.TooEarlyException e) {
      reply = Reply.error(409, e.getMessage());
    } catch (RedisStateStore.UnavailableException e) {
      metrics.unavailable();
      reply = Reply.error(503, e.getMessage()).header("Retry-After", "1");
    } catch (RuntimeException e) {
      errors.println("featurebeam serve: " + exchange.getRequestMethod() + " "
          + exchange.getRequestURI().getRawPath() + " failed:");
      e.printStackTrace(errors);
      reply = Reply.error(500, "internal error: " + e.getClass().getSimpleName());
    }
    try {
      // exchange.close() reads what is left of the request body (up to the JDK server's limit, then
      // it closes the connection), so the next request on the connection starts where it should.
      exchange.getResponseHeaders().set("Content-Type", reply.contentType);
      for (int i = 0; i < reply.headers.size(); i += 2) {
        exchange.getResponseHeaders().set(reply.headers.get(i), reply.headers.get(i + 1));
      }
      exchange.sendResponseHeaders(reply.status, reply.body.length == 0 ? -1 : reply.body.length);
      if (reply.body.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(reply.body);
        }
      }
    } finally {
      exchange.close();
      metrics.request(endpoint, reply.status, System.nanoTime() - start);
    }
  }

  private Reply route(HttpExchange exchange, String path) throws IOException {
    String method = exchange.getRequestMethod();
    if (path.equals("/health")) {
      allow(method, "GET");
      return health();
    }
    if (path.equals("/metrics")) {
      allow(method, "GET");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      metrics.write(out);
      return new Reply(200, out.toByteArray(), metrics.contentType());
    }
    if (!path.startsWith(API)) {
      throw new BadRequest(404, "no such path: " + path + " (the features are under " + API
          + featureSet + "/" + version + ")");
    }
    String[] parts = path.substring(API.length()).split("/", -1);
    if (parts.length < 2 || parts.length > 3 || (parts.length == 3 && parts[2].isEmpty())) {
      throw new BadRequest(404, "no such path: " + path + " (GET " + API + featureSet + "/"
          + version + "/ENTITY or POST " + API + featureSet + "/" + version + ")");
    }
    String fs = decode(parts[0]);
    String v = decode(parts[1]);
    if (!fs.equals(featureSet) || !v.equals(version)) {
      throw new BadRequest(404, "this server serves " + featureSet + " " + version + ", not "
          + fs + " " + v);
    }
    if (parts.length == 3) {
      allow(method, "GET");
      String at = query(exchange.getRequestURI().getRawQuery(), "at");
      long instant = at == null ? clock.getAsLong() : instant(at);
      return rows(List.of(decode(parts[2])), instant);
    }
    allow(method, "POST");
    return batch(readBody(exchange));
  }

  private Reply health() throws IOException {
    try {
      features.ping();
    } catch (RedisStateStore.UnavailableException e) {
      metrics.unavailable();
      return json(503, g -> {
        g.writeStringField("status", "unavailable");
        g.writeStringField("error", e.getMessage());
      });
    }
    return json(200, g -> {
      g.writeStringField("status", "ok");
      g.writeStringField("feature_set", featureSet);
      g.writeNumberField("version", features.spec().version());
    });
  }

  private Reply batch(byte[] body) throws IOException {
    JsonNode request;
    try {
      request = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadRequest(400, "the body is not JSON: " + e.getOriginalMessage());
    }
    if (request == null || !request.isObject()) {
      throw new BadRequest(400, "the body must be a JSON object: {\"entities\": [...], \"at\": ...}");
    }
    request.fieldNames().forEachRemaining(name -> {
      if (!name.equals("entities") && !name.equals("at")) {
        throw new BadRequest(400, "unknown field \"" + name + "\" (the fields are entities and at)");
      }
    });
    JsonNode list = request.get("entities");
    if (list == null || !list.isArray()) {
      throw new BadRequest(400, "\"entities\" must be an array of entity ids");
    }
    if (list.size() > MAX_ENTITIES) {
      throw new BadRequest(400, "at most " + MAX_ENTITIES + " entities per request, not "
          + list.size());
    }
    List<String> entities = new ArrayList<>(list.size());
    for (JsonNode e : list) {
      if (e.isTextual()) {
        entities.add(e.textValue());
      } else if (e.isIntegralNumber()) {
        entities.add(e.asText());
      } else {
        throw new BadRequest(400, "an entity id must be a string (or an integer), not " + e);
      }
    }
    JsonNode at = request.get("at");
    long instant;
    if (at == null || at.isNull()) {
      instant = clock.getAsLong();
    } else if (at.isTextual()) {
      instant = instant(at.textValue());
    } else if (at.isIntegralNumber() && at.canConvertToLong()) {
      instant = instant(at.asText());
    } else {
      throw new BadRequest(400, "\"at\" must be an ISO-8601 instant or epoch milliseconds, not " + at);
    }
    return rows(entities, instant);
  }

  private Reply rows(List<String> entities, long at) throws IOException {
    List<FeatureRow> rows = entities.size() == 1
        ? List.of(features.get(entities.get(0), at))
        : features.getAll(entities, at);
    long freshness = -1;
    int notHeld = 0;
    for (FeatureRow r : rows) {
      if (r.held()) {
        freshness = Math.max(freshness, r.freshnessMillis());
      } else {
        notHeld++;
      }
    }
    metrics.entities(rows.size(), notHeld);
    List<String> names = features.featureNames();
    long stalest = freshness;
    return json(200, g -> {
      g.writeStringField("feature_set", featureSet);
      g.writeNumberField("version", features.spec().version());
      g.writeStringField("at", Instant.ofEpochMilli(at).toString());
      if (stalest < 0) {
        g.writeNullField("freshness_ms");
      } else {
        g.writeNumberField("freshness_ms", stalest);
      }
      g.writeArrayFieldStart("rows");
      for (FeatureRow r : rows) {
        g.writeStartObject();
        g.writeStringField(entityColumn, r.entity());
        List<Object> values = r.values();
        for (int i = 0; i < names.size(); i++) {
          g.writeFieldName(names.get(i));
          writeValue(g, values.get(i));
        }
        g.writeEndObject();
      }
      g.writeEndArray();
    });
  }

  /** A feature's value as JSON: numbers and booleans as such, instants as ISO-8601 text. */
  static void writeValue(JsonGenerator g, @Nullable Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof Long) {
      g.writeNumber((Long) v);
    } else if (v instanceof Integer) {
      g.writeNumber((Integer) v);
    } else if (v instanceof Double) {
      double d = (Double) v;
      if (Double.isFinite(d)) {
        g.writeNumber(d);
      } else {
        g.writeNull(); // JSON has no NaN or infinity; a feature never holds one
      }
    } else if (v instanceof Boolean) {
      g.writeBoolean((Boolean) v);
    } else if (v instanceof ReadableInstant) {
      g.writeString(Instant.ofEpochMilli(((ReadableInstant) v).getMillis()).toString());
    } else {
      g.writeString(v.toString());
    }
  }

  private static long instant(String text) {
    try {
      return OnlineFeatures.parseInstant(text);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(400, "at: " + e.getMessage());
    }
  }

  private static void allow(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new BadRequest(405, method + " is not allowed here; use " + allowed, allowed);
    }
  }

  private static byte[] readBody(HttpExchange exchange) throws IOException {
    InputStream in = exchange.getRequestBody();
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      long declared;
      try {
        declared = Long.parseLong(length.strip());
      } catch (NumberFormatException e) {
        throw new BadRequest(400, "Content-Length is not a number: " + length);
      }
      if (declared > MAX_BODY_BYTES) {
        throw tooLarge(in);
      }
    }
    byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
    if (body.length > MAX_BODY_BYTES) {
      throw tooLarge(in);
    }
    return body;
  }

  /**
   * The 413 for a body over the limit, after reading and dropping up to {@link #SWALLOW_BYTES}
   * more of it: a client still sending the body then reads the answer, where a connection closed
   * on unread bytes is reset under it. A body larger still is cut off with the connection.
   */
  private static BadRequest tooLarge(InputStream in) throws IOException {
    byte[] buffer = new byte[8192];
    for (long left = SWALLOW_BYTES; left > 0; ) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
      if (n < 0) {
        break;
      }
      left -= n;
    }
    return new BadRequest(413, "the body is over " + MAX_BODY_BYTES + " bytes");
  }

  private static @Nullable String query(@Nullable String rawQuery, String name) {
    if (rawQuery == null) {
      return null;
    }
    String found = null;
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      if (key.equals(name)) {
        if (found != null) {
          throw new BadRequest(400, "'" + name + "' is given twice");
        }
        found = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      } else if (!key.isEmpty()) {
        throw new BadRequest(400, "unknown parameter '" + key + "' (the only one is at)");
      }
    }
    return found;
  }

  /** A path segment's percent-encoding undone ('+' stays a plus, as in a path). */
  private static String decode(String segment) {
    try {
      return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new BadRequest(400, "bad percent-encoding in " + segment);
    }
  }

  private interface Fields {
    void write(JsonGenerator g) throws IOException;
  }

  private static Reply json(int status, Fields fields) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON_FACTORY.createGenerator(out)) {
      g.writeStartObject();
      fields.write(g);
      g.writeEndObject();
    }
    return new Reply(status, out.toByteArray(), "application/json");
  }

  private static final class Reply {
    final int status;
    final byte[] body;
    final String contentType;
    final List<String> headers = new ArrayList<>(2);

    Reply(int status, byte[] body, String contentType) {
      this.status = status;
      this.body = body;
      this.contentType = contentType;
    }

    static Reply error(int status, String message) {
      try {
        return json(status, g -> g.writeStringField("error", message));
      } catch (IOException e) {
        throw new IllegalStateException(e); // writing to memory
      }
    }

    Reply header(String name, String value) {
      headers.add(name);
      headers.add(value);
      return this;
    }
  }

  /** A request the server refuses, with its status. */
  private static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final @Nullable String allow;

    BadRequest(int status, String message) {
      this(status, message, null);
    }

    BadRequest(int status, String message, @Nullable String allow) {
      super(message, null, false, false);
      this.status = status;
      this.allow = allow;
    }
  }
}
