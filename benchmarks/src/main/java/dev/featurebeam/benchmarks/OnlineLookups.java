package dev.featurebeam.benchmarks;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.pipelines.online.FeatureRow;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * The Java lookup's latency against the bare Redis read under it, in the same process and run:
 * {@code OnlineFeatures.get} of a random entity at a fixed instant (one atomic read of the hash and
 * of the days its instant needs, assembling the state,
 * every feature at the instant), then Jedis's HMGET of the hash's fields alone (the round trip any
 * Redis-backed store pays), then {@code getAll} of 100 random entities. One thread, one call at a
 * time; each latency is one call's System.nanoTime difference.
 *
 * <pre>
 * java -cp … OnlineLookups --spec=SPEC --store=redis://127.0.0.1:6379/9 --at=INSTANT
 *     [--calls=200000] [--warmup=50000] [--entitiesFile=FILE]
 * </pre>
 *
 * Prints one line per measurement: what, calls, p50, p99, p99.9, max (µs) and calls per second;
 * writes the entity ids it found to --entitiesFile (the HTTP benchmark's wrk script reads them).
 */
public final class OnlineLookups {
  private OnlineLookups() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = BenchArgs.parse(args);
    FeatureSpec spec = SpecParser.parse(Path.of(a.required("spec")));
    String store = a.required("store");
    long at = java.time.Instant.parse(a.required("at")).toEpochMilli();
    int calls = Integer.parseInt(a.options.getOrDefault("calls", "200000"));
    int warmup = Integer.parseInt(a.options.getOrDefault("warmup", "50000"));
    List<String> entities = entities(store, spec);
    if (entities.isEmpty()) {
      throw new IllegalStateException("no entity of " + spec.featureSet() + " in " + store);
    }
    if (a.options.containsKey("entitiesFile")) {
      Files.write(Path.of(a.options.get("entitiesFile")), entities, StandardCharsets.UTF_8);
    }
    System.out.printf("entities: %d%n", entities.size());
    SplittableRandom r = new SplittableRandom(42);
    try (OnlineFeatures online = OnlineFeatures.open(spec, store);
        Jedis jedis = jedis(store)) {
      // Every entity once: each answers (and nothing throws) before anything is timed.
      long held = 0;
      for (int i = 0; i < entities.size(); i += 100) {
        for (FeatureRow row : online.getAll(
            entities.subList(i, Math.min(entities.size(), i + 100)), at)) {
          held += row.held() ? 1 : 0;
        }
      }
      System.out.printf("held: %d of %d%n", held, entities.size());
      byte[][] fields = {bytes("tiles"), bytes("latest"), bytes("count"), bytes("digest"),
          bytes("watermark")};
      for (int round = 0; round < 2; round++) {
        boolean timed = round == 1;
        int n = timed ? calls : warmup;
        long[] get = new long[n];
        long[] raw = new long[n];
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          String e = entities.get(r.nextInt(entities.size()));
          long s = System.nanoTime();
          online.get(e, at);
          get[i] = System.nanoTime() - s;
        }
        long getNanos = System.nanoTime() - t0;
        t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          byte[] key = bytes(RedisStateStore.key(spec.featureSet(), spec.version(),
              entities.get(r.nextInt(entities.size()))));
          long s = System.nanoTime();
          jedis.hmget(key, fields);
          raw[i] = System.nanoTime() - s;
        }
        long rawNanos = System.nanoTime() - t0;
        int batches = n / 100;
        long[] all = new long[batches];
        t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
          List<String> some = new ArrayList<>(100);
          for (int k = 0; k < 100; k++) {
            some.add(entities.get(r.nextInt(entities.size())));
          }
          long s = System.nanoTime();
          online.getAll(some, at);
          all[i] = System.nanoTime() - s;
        }
        long allNanos = System.nanoTime() - t0;
        if (timed) {
          print("OnlineFeatures.get, 1 entity", get, getNanos);
          print("Jedis HMGET alone, 1 entity", raw, rawNanos);
          print("OnlineFeatures.getAll, 100 entities", all, allNanos);
        }
      }
    }
  }

  private static void print(String what, long[] nanos, long wallNanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    System.out.printf("%-38s calls=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f"
        + " calls_per_s=%.0f%n", what, s.length, q(s, 0.50), q(s, 0.99), q(s, 0.999),
        s[s.length - 1] / 1000.0, s.length / (wallNanos / 1e9));
  }

  private static double q(long[] sorted, double p) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] / 1000.0;
  }

  /** Every entity with a key of the spec's feature set and version. */
  private static List<String> entities(String store, FeatureSpec spec) {
    String prefix = RedisStateStore.key(spec.featureSet(), spec.version(), "");
    List<String> out = new ArrayList<>();
    try (Jedis j = jedis(store)) {
      String cursor = ScanParams.SCAN_POINTER_START;
      ScanParams params = new ScanParams().match(prefix + "*").count(1000);
      do {
        ScanResult<String> page = j.scan(cursor, params);
        for (String k : page.getResult()) {
          out.add(k.substring(prefix.length()));
        }
        cursor = page.getCursor();
      } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    }
    out.sort(null);
    return out;
  }

  private static Jedis jedis(String url) {
    URI u = URI.create(url);
    Jedis j = new Jedis(u.getHost(), u.getPort());
    String db = u.getPath() == null ? "" : u.getPath().replace("/", "");
    if (!db.isEmpty()) {
      j.select(Integer.parseInt(db));
    }
    return j;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
