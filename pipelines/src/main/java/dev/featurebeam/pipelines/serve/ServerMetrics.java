package dev.featurebeam.pipelines.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;

/**
 * What {@code /metrics} shows, in Prometheus's text format, kept by Prometheus's own client in a
 * registry of this server's (not the JVM-wide default one, so two servers in one JVM stay apart).
 */
final class ServerMetrics {
  /** Latency buckets in seconds, finest where a lookup is expected (well under 2 ms). */
  private static final double[] BUCKETS = {
      0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Counter requests = Counter.builder()
      .name("featurebeam_serve_requests")
      .help("HTTP requests answered, by endpoint and status code")
      .labelNames("endpoint", "status")
      .register(registry);
  private final Histogram latency = Histogram.builder()
      .name("featurebeam_serve_request_duration_seconds")
      .help("Time from reading a request to its last byte written, by endpoint")
      .labelNames("endpoint")
      .classicOnly()
      .classicUpperBounds(BUCKETS)
      .register(registry);
  private final Counter entities = Counter.builder()
      .name("featurebeam_serve_entities")
      .help("Entities answered (a batch counts each of its entities)")
      .register(registry);
  private final Counter notHeld = Counter.builder()
      .name("featurebeam_serve_entities_not_held")
      .help("Entities answered that the store held no state for (counts 0, nulls)")
      .register(registry);
  private final Counter overloaded = Counter.builder()
      .name("featurebeam_serve_overloaded")
      .help("Requests answered 503 because every thread was busy and the queue full")
      .register(registry);
  private final Counter unavailable = Counter.builder()
      .name("featurebeam_serve_store_unavailable")
      .help("Requests answered 503 because Redis did not answer")
      .register(registry);

  void request(String endpoint, int status, long nanos) {
    requests.labelValues(endpoint, Integer.toString(status)).inc();
    latency.labelValues(endpoint).observe(nanos / 1e9);
  }

  void entities(int answered, int notHeldCount) {
    entities.inc(answered);
    if (notHeldCount > 0) {
      notHeld.inc(notHeldCount);
    }
  }

  void overloaded() {
    overloaded.inc();
  }

  void unavailable() {
    unavailable.inc();
  }

  String contentType() {
    return writer.getContentType();
  }

  void write(OutputStream out) throws IOException {
    writer.write(out, registry.scrape());
  }
}
