package dev.featurebeam.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JSON API on loopback (the JDK's HttpServer) serving the lines of a JSON-lines file as
 * records, {@code pageSize} a page, paged by a cursor: {@code {"data": [...], "next": "c250"}},
 * {@code "next": null} on the last page, the cursor sent back as {@code ?after=}. A line that is
 * not JSON is served as a JSON string (the pull lands it, the run quarantines it). Planned faults
 * by request number: 429 with Retry-After, 500, an answer slower than the client waits, or one
 * that takes a minute (to kill the client meanwhile); or it answers 503 to everything.
 */
final class EventsApi implements AutoCloseable {
  enum Fault { TOO_MANY, ERROR, SLOW, HANG }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpServer server;
  private final ExecutorService threads = Executors.newFixedThreadPool(4);
  private final List<String> records = new ArrayList<>();
  private final int pageSize;
  private final Map<Integer, Fault> faults = new ConcurrentHashMap<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final List<String> queries = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean down;
  /** When set, requests without this Authorization get a 401 that echoes what they sent. */
  private volatile String token;
  private final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());

  EventsApi(Path jsonLines, int pageSize) throws IOException {
    for (String line : Files.readAllLines(jsonLines, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      try {
        JSON.readTree(line);
        records.add(line);
      } catch (IOException notJson) {
        records.add(JSON.writeValueAsString(line));
      }
    }
    this.pageSize = pageSize;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/events", this::handle);
    server.setExecutor(threads);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/events";
  }

  int records() {
    return records.size();
  }

  EventsApi fault(int request, Fault fault) {
    faults.put(request, fault);
    return this;
  }

  void down(boolean value) {
    down = value;
  }

  void requireToken(String value) {
    token = value;
  }

  /** The Authorization header of each request, in order (null when absent). */
  List<String> authorizations() {
    synchronized (authorizations) {
      return List.copyOf(authorizations);
    }
  }

  List<String> queries() {
    synchronized (queries) {
      return List.copyOf(queries);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    int n = requests.getAndIncrement();
    String query = ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery();
    queries.add(query);
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    authorizations.add(auth);
    try (ex) {
      Fault fault = faults.get(n);
      if (token != null && !token.equals(auth)) {
        answer(ex, 401, "{\"error\":\"invalid credentials: " + auth + "\"}");
      } else if (down) {
        answer(ex, 503, "{\"error\":\"maintenance\"}");
      } else if (fault == Fault.TOO_MANY) {
        ex.getResponseHeaders().add("Retry-After", "1");
        answer(ex, 429, "{\"error\":\"rate limited\"}");
      } else if (fault == Fault.ERROR) {
        answer(ex, 500, "{\"error\":\"internal\"}");
      } else {
        if (fault == Fault.SLOW || fault == Fault.HANG) {
          Thread.sleep(fault == Fault.SLOW ? 3_000 : 60_000);
        }
        int offset = 0;
        for (String p : query.split("&")) {
          if (p.startsWith("after=c")) {
            offset = Integer.parseInt(p.substring("after=c".length()));
          }
        }
        int end = Math.min(records.size(), offset + pageSize);
        answer(ex, 200, "{\"data\":[" + String.join(",", records.subList(offset, end))
            + "],\"next\":" + (end < records.size() ? "\"c" + end + "\"" : "null") + "}");
      }
    } catch (IOException | InterruptedException e) {
      // The client gave up on a slow answer, or the server stops.
    }
  }

  private static void answer(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
