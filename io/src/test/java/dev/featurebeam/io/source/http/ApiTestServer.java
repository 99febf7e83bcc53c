package dev.featurebeam.io.source.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JSON API on loopback (the JDK's HttpServer) that serves fixed records in pages of a size,
 * paged in one of four styles, and misbehaves on request: a fault planned for the n-th request
 * (429 with Retry-After, 500, an answer slower than the client waits), or 503 from some record
 * on. It records every request it sees.
 */
final class ApiTestServer implements AutoCloseable {
  enum Style { LINK_HEADER, NEXT_FIELD, CURSOR, PAGE_NUMBER }

  enum Fault { TOO_MANY, ERROR, SLOW }

  /** A request as the server saw it. */
  record Seen(long atNanos, String query, String authorization, int status) {}

  static final int RETRY_AFTER_SECONDS = 1;
  static final long SLOW_MILLIS = 2_000;

  private final HttpServer server;
  private final ExecutorService threads = Executors.newFixedThreadPool(4);
  private final List<String> records;
  private final int pageSize;
  private final Style style;
  private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
  private final Map<Integer, Fault> faults = new ConcurrentHashMap<>();
  private final AtomicInteger requests = new AtomicInteger();
  /** Pages starting at or after this record answer 503. */
  private volatile int downFrom = Integer.MAX_VALUE;
  /** Answers 401 with this text in the body, e.g. an echo of the Authorization header. */
  private volatile boolean refuse;

  private ApiTestServer(List<String> records, int pageSize, Style style) throws IOException {
    this.records = List.copyOf(records);
    this.pageSize = pageSize;
    this.style = style;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/events", this::handle);
    server.setExecutor(threads);
    server.start();
  }

  static ApiTestServer start(List<String> records, int pageSize, Style style) throws IOException {
    return new ApiTestServer(records, pageSize, style);
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/events";
  }

  /** The {@code n}-th request (0-based, counting every request) gets {@code fault}. */
  ApiTestServer fault(int n, Fault fault) {
    faults.put(n, fault);
    return this;
  }

  void downFrom(int record) {
    downFrom = record;
  }

  void refuse(boolean value) {
    refuse = value;
  }

  List<Seen> seen() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  List<String> queries() {
    return seen().stream().map(Seen::query).toList();
  }

  private void handle(HttpExchange ex) throws IOException {
    int n = requests.getAndIncrement();
    String query = ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery();
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    try (ex) {
      Fault fault = faults.get(n);
      if (fault == Fault.SLOW) {
        sleep(SLOW_MILLIS);
      }
      if (refuse) {
        answer(ex, n, query, auth, 401, "{\"error\":\"bad token " + auth + "\"}");
        return;
      }
      if (fault == Fault.TOO_MANY) {
        ex.getResponseHeaders().add("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
        answer(ex, n, query, auth, 429, "{\"error\":\"slow down\"}");
        return;
      }
      if (fault == Fault.ERROR) {
        answer(ex, n, query, auth, 500, "{\"error\":\"oops\"}");
        return;
      }
      int offset = offset(query);
      if (offset >= downFrom) {
        answer(ex, n, query, auth, 503, "{\"error\":\"down\"}");
        return;
      }
      int end = Math.min(records.size(), offset + pageSize);
      String data = String.join(",", offset >= records.size() ? List.of()
          : records.subList(offset, end));
      boolean more = end < records.size();
      String body;
      switch (style) {
        case CURSOR:
          body = "{\"data\":[" + data + "],\"meta\":{\"next_cursor\":"
              + (more ? "\"c" + end + "\"" : "null") + "}}";
          break;
        case NEXT_FIELD:
          body = "{\"data\":[" + data + "],\"links\":{\"next\":"
              + (more ? "\"/events?offset=" + end + "\"" : "null") + "}}";
          break;
        case LINK_HEADER:
          if (more) {
            ex.getResponseHeaders().add("Link", "<" + url() + "?offset=0>; rel=\"first\", <"
                + url() + "?offset=" + end + ">; rel=\"next\"");
          }
          body = "{\"data\":[" + data + "]}";
          break;
        default:
          body = "{\"page\":" + (offset / pageSize + 1) + ",\"data\":[" + data + "]}";
      }
      answer(ex, n, query, auth, 200, body);
    } catch (IOException e) {
      // The client gave up waiting (a slow answer): nothing to answer.
    }
  }

  private int offset(String query) {
    for (String p : query.split("&")) {
      String[] kv = p.split("=", 2);
      if (kv.length < 2) {
        continue;
      }
      switch (kv[0]) {
        case "page":
          return (Integer.parseInt(kv[1]) - 1) * pageSize;
        case "cursor":
          return Integer.parseInt(kv[1].substring(1));
        case "offset":
          return Integer.parseInt(kv[1]);
        default:
      }
    }
    return 0;
  }

  private void answer(HttpExchange ex, int n, String query, String auth, int status, String body)
      throws IOException {
    seen.add(new Seen(System.nanoTime(), query, auth, status));
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
    try {
      threads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
