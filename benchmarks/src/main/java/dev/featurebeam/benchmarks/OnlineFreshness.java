package dev.featurebeam.benchmarks;

import dev.featurebeam.pipelines.online.FeatureRow;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Freshness from produce to served value: while a stream with {@code --onlineStore} reads a topic
 * under load, sends one probe event every {@code --intervalMs} for a probe entity (20 of them in
 * turn) stamped with the wall clock, and asks {@link OnlineFeatures#get} every millisecond until
 * that entity's state holds it (its latest event is the probe's time). The freshness of a probe is
 * the time from just before its send to the first read that serves it.
 *
 * <pre>
 * java -cp … OnlineFreshness --bootstrap=HOST:PORT --topic=T --spec=SPEC
 *     --store=redis://127.0.0.1:6379/9 [--seconds=180] [--intervalMs=100] [--warmupSeconds=30]
 * </pre>
 */
public final class OnlineFreshness {
  private OnlineFreshness() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = BenchArgs.parse(args);
    FeatureSpec spec = SpecParser.parse(Path.of(a.required("spec")));
    String topic = a.required("topic");
    int seconds = Integer.parseInt(a.options.getOrDefault("seconds", "180"));
    int warmup = Integer.parseInt(a.options.getOrDefault("warmupSeconds", "30"));
    long interval = Long.parseLong(a.options.getOrDefault("intervalMs", "100"));
    List<Long> took = new ArrayList<>();
    int lost = 0;
    try (OnlineFeatures online = OnlineFeatures.open(spec, a.required("store"));
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, a.required("bootstrap"),
            ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ACKS_CONFIG, "1"),
            new ByteArraySerializer(), new ByteArraySerializer())) {
      long start = System.currentTimeMillis();
      long end = start + (warmup + seconds) * 1000L;
      for (int i = 0; System.currentTimeMillis() < end; i++) {
        long next = start + i * interval;
        long wait = next - System.currentTimeMillis();
        if (wait > 0) {
          Thread.sleep(wait);
        }
        String entity = "probe-" + (i % 20);
        long ts = System.currentTimeMillis();
        String json = "{\"event_id\":\"probe-" + ts + "-" + i + "\",\"user_id\":\"" + entity
            + "\",\"event_type\":\"view\",\"ts\":\"" + java.time.Instant.ofEpochMilli(ts) + "\"}";
        long sent = System.nanoTime();
        producer.send(new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8)));
        long deadline = sent + 30_000_000_000L;
        boolean served = false;
        while (System.nanoTime() < deadline) {
          FeatureRow row = online.get(entity, System.currentTimeMillis() + 1);
          if (row.held() && row.latestEventMillis() >= ts) {
            served = true;
            break;
          }
          Thread.sleep(1);
        }
        boolean counted = ts - start >= warmup * 1000L;
        if (counted) {
          if (served) {
            took.add((System.nanoTime() - sent) / 1_000_000);
          } else {
            lost++;
          }
        }
      }
    }
    long[] s = took.stream().mapToLong(Long::longValue).sorted().toArray();
    if (s.length == 0) {
      throw new IllegalStateException("no probe was served within 30 s");
    }
    System.out.printf("probes=%d not_served_in_30s=%d p50_ms=%d p90_ms=%d p99_ms=%d max_ms=%d%n",
        s.length, lost, q(s, 0.5), q(s, 0.9), q(s, 0.99), s[s.length - 1]);
  }

  private static long q(long[] sorted, double p) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  }
}
