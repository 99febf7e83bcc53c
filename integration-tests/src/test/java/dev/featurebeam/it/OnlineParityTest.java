package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.pipelines.online.FeatureRow;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.features.NaiveFeatures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.schemas.Schema;
import org.joda.time.ReadableInstant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * The online store's parity, the heart of serving: on 21,000 random events (with exact and
 * conflicting duplicates in any order, missing values, every aggregation, windows of minutes,
 * hours and days and none) loaded by {@code batch --onlineStore}, for 2,000 random (entity,
 * instant) pairs at and after the end of the data (some at window edges, some for entities never
 * seen) the value from the Java API, from {@code serve} (a child process, one entity per GET and
 * batches by POST), from {@code training-set} and from an oracle that scans the events are one
 * and the same; at the end's instant, which is the last partition's as-of instant, they equal the
 * partition's row. Redis database 12, emptied first.
 */
class OnlineParityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STORE = "redis://127.0.0.1:6379/12";
  private static final long DAY = 86_400_000L;
  private static final long START = Instant.parse("2025-01-01T00:00:00Z").toEpochMilli();
  /** end_of_day as of 2025-01-20: every event is before it. */
  private static final long END = Instant.parse("2025-01-21T00:00:00Z").toEpochMilli();
  private static final int USERS = 400;
  private static final int EVENTS = 21_000;
  private static final int PAIRS = 2_000;
  private static final String[] KINDS = {"buy", "view", "cart", "refund"};

  private static final String SPEC = String.join("\n",
      "feature_set: parity",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "dedup_key: event_id",
      "source_schema:",
      "  event_id: {type: string, required: true}",
      "  user_id: {type: string, required: true}",
      "  kind: {type: string}",
      "  qty: {type: long}",
      "  amount: {type: double}",
      "  seen_at: {type: timestamp}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n_30m, agg: count, window: 30m}",
      "  - {name: buys_6h, agg: count, window: 6h, where: {kind: buy}}",
      "  - {name: any_1h, agg: exists, window: 1h}",
      "  - {name: any_buy_2d, agg: exists, window: 2d, where: {kind: [buy, cart]}}",
      "  - {name: kinds_1d, agg: count_distinct, field: kind, window: 1d}",
      "  - {name: qty_sum_7d, agg: sum, field: qty, window: 7d}",
      "  - {name: amt_sum_3h, agg: sum, field: amount, window: 3h}",
      "  - {name: amt_avg_30d, agg: avg, field: amount, window: 30d}",
      "  - {name: qty_avg_90m, agg: avg, field: qty, window: 90m}",
      "  - {name: amt_min_2d, agg: min, field: amount, window: 2d}",
      "  - {name: qty_max_90m, agg: max, field: qty, window: 90m}",
      "  - {name: kind_min_7d, agg: min, field: kind, window: 7d}",
      "  - {name: seen_max_7d, agg: max, field: seen_at, window: 7d}",
      "  - {name: seen_min_1d, agg: min, field: seen_at, window: 1d}",
      "  - {name: last_kind_12h, agg: last, field: kind, window: 12h}",
      "  - {name: last_amount, agg: last, field: amount}",
      "  - {name: n_all, agg: count}",
      "  - {name: qty_sum_all, agg: sum, field: qty}",
      "  - {name: dsl, agg: days_since_last}",
      "  - {name: dsl_refund, agg: days_since_last, where: {kind: refund}}",
      "");

  @TempDir Path dir;

  @Test
  void javaApiServeTrainingSetAndTheOracleAgreeAtEveryPair() throws Exception {
    try (Jedis j = new Jedis("127.0.0.1", 6379)) {
      j.select(12);
      j.flushDB();
    }
    FeatureSpec spec = SpecParser.parse(SPEC);
    Path specFile = dir.resolve("spec.yaml");
    Files.writeString(specFile, SPEC);
    Random random = new Random(20261203L);
    Map<String, List<Map<String, Object>>> kept = new TreeMap<>();
    Path events = dir.resolve("events.csv");
    int copies = writeEvents(random, events, kept);
    assertThat(copies, greaterThan(1_000));

    Cli.batch(Cli.DIRECT, specFile, events, dir.resolve("out"),
        "--asOfDate=2025-01-20", "--onlineStore=" + STORE).assertExit(0);

    List<String> entities = new ArrayList<>(kept.keySet());
    List<String> pairEntity = new ArrayList<>();
    List<Long> pairAt = new ArrayList<>();
    choosePairs(random, spec, entities, kept, pairEntity, pairAt);

    // the oracle
    List<FeatureDef> features = spec.features();
    List<List<String>> oracle = new ArrayList<>();
    for (int i = 0; i < PAIRS; i++) {
      List<Map<String, Object>> own = kept.getOrDefault(pairEntity.get(i), List.of());
      List<String> row = new ArrayList<>();
      for (FeatureDef f : features) {
        row.add(norm(spec, f, NaiveFeatures.value(spec, f, own, pairAt.get(i))));
      }
      oracle.add(row);
    }

    // the Java API
    List<List<String>> java = new ArrayList<>();
    try (OnlineFeatures online = OnlineFeatures.open(spec, STORE)) {
      for (int i = 0; i < PAIRS; i++) {
        FeatureRow r = online.get(pairEntity.get(i), pairAt.get(i));
        List<String> row = new ArrayList<>();
        for (int k = 0; k < features.size(); k++) {
          row.add(norm(spec, features.get(k), r.values().get(k)));
        }
        java.add(row);
      }
    }

    // serve, in a child process: GET for the pairs after the end, POST for those at the end
    List<List<String>> served = new ArrayList<>(java.size());
    Child server = Child.start(dir.resolve("serve"), Map.of(), "serve", "--spec=" + specFile,
        "--onlineStore=" + STORE, "--port=0", "--threads=4");
    try {
      server.awaitOut("serving parity v1 on http://", 60);
      Matcher m = Pattern.compile("on (http://\\S+)").matcher(server.outSoFar());
      assertThat(m.find(), equalTo(true));
      String base = m.group(1) + "/v1/features/parity/v1";
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      for (int i = 0; i < PAIRS; i++) {
        served.add(null);
        if (pairAt.get(i) == END) {
          continue; // in the batches below
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/"
            + pairEntity.get(i) + "?at=" + Instant.ofEpochMilli(pairAt.get(i)))).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.body(), r.statusCode(), equalTo(200));
        served.set(i, jsonRow(spec, JSON.readTree(r.body()).get("rows").get(0)));
      }
      List<Integer> endPairs = new ArrayList<>();
      for (int i = 0; i < PAIRS; i++) {
        if (pairAt.get(i) == END) {
          endPairs.add(i);
        }
      }
      for (int from = 0; from < endPairs.size(); from += 500) {
        List<Integer> chunk = endPairs.subList(from, Math.min(endPairs.size(), from + 500));
        List<String> ids = new ArrayList<>();
        for (int i : chunk) {
          ids.add(pairEntity.get(i));
        }
        String body = JSON.writeValueAsString(Map.of("entities", ids, "at", Instant.ofEpochMilli(END).toString()));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body(), r.statusCode(), equalTo(200));
        JsonNode rows = JSON.readTree(r.body()).get("rows");
        for (int k = 0; k < chunk.size(); k++) {
          assertThat(rows.get(k).get("user_id").asText(), equalTo(ids.get(k)));
          served.set(chunk.get(k), jsonRow(spec, rows.get(k)));
        }
      }
    } finally {
      assertThat(server.terminate(), equalTo(143)); // SIGTERM: the shutdown hook closed it
    }

    // training-set over the same events at the same pairs
    StringBuilder spine = new StringBuilder("user_id,at,pair\n");
    for (int i = 0; i < PAIRS; i++) {
      spine.append(pairEntity.get(i)).append(',').append(Instant.ofEpochMilli(pairAt.get(i)))
          .append(',').append(i).append('\n');
    }
    Path spineFile = dir.resolve("spine.csv");
    Files.writeString(spineFile, spine.toString());
    Path training = dir.resolve("training.parquet");
    Cli.run("training-set", "--spec=" + specFile, "--source=file:" + events, "--spine=" + spineFile,
        "--spineTimestamp=at", "--out=" + training, "--runner=DirectRunner").assertExit(0);
    List<List<String>> trained = new ArrayList<>();
    for (int i = 0; i < PAIRS; i++) {
      trained.add(null);
    }
    for (GenericRecord r : PartitionReader.readFile(training)) {
      int pair = Integer.parseInt(r.get("pair").toString());
      trained.set(pair, recordRow(spec, r));
    }

    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < PAIRS; i++) {
      String where = pairEntity.get(i) + " at " + Instant.ofEpochMilli(pairAt.get(i));
      compare(mismatches, features, where + " java", oracle.get(i), java.get(i));
      compare(mismatches, features, where + " serve", oracle.get(i), served.get(i));
      compare(mismatches, features, where + " training-set", oracle.get(i), trained.get(i));
    }
    assertThat(mismatches.stream().limit(20).toList(), empty());

    // at the end's instant: the partition of 2025-01-20, row by row
    Path partition = Cli.partitionDir(dir.resolve("out"), "parity", 1, "2025-01-20");
    Map<String, List<String>> partitionRows = new HashMap<>();
    try (Stream<Path> files = Files.list(partition)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList()) {
        for (GenericRecord r : PartitionReader.readFile(f)) {
          partitionRows.put(r.get("user_id").toString(), recordRow(spec, r));
        }
      }
    }
    assertThat(partitionRows.size(), greaterThan(USERS / 2));
    int atEndHeld = 0;
    for (int i = 0; i < PAIRS; i++) {
      List<String> row = partitionRows.get(pairEntity.get(i));
      if (pairAt.get(i) == END && row != null) {
        atEndHeld++;
        compare(mismatches, features, pairEntity.get(i) + " partition", row, java.get(i));
      }
    }
    assertThat(atEndHeld, greaterThanOrEqualTo(150));
    assertThat(mismatches.stream().limit(20).toList(), empty());
  }

  /**
   * 21,000 events of 400 users over 2025-01-01 .. 01-20 with missing values; 5% get an exact copy
   * and 2.5% a conflicting one (another time, other values) placed anywhere in the file. No
   * dedup_within: the earliest copy of a key is the one kept ({@code kept}, per entity).
   */
  private static int writeEvents(Random random, Path file,
      Map<String, List<Map<String, Object>>> kept) throws Exception {
    List<String> lines = new ArrayList<>();
    Map<String, Map<String, Object>> byKey = new HashMap<>();
    Map<String, String> lineOf = new HashMap<>();
    for (int i = 0; i < EVENTS; i++) {
      String user = "u" + (int) Math.floor(Math.pow(random.nextDouble(), 2) * USERS);
      Map<String, Object> e = event(random, "e" + i, user, START + (long) (random.nextDouble() * (END - START)));
      byKey.put("e" + i, e);
      String line = csv(e);
      lineOf.put("e" + i, line);
      lines.add(line);
    }
    int copies = 0;
    for (int i = 0; i < EVENTS; i++) {
      double r = random.nextDouble();
      Map<String, Object> original = byKey.get("e" + i);
      if (r < 0.05) {
        lines.add(random.nextInt(lines.size() + 1), lineOf.get("e" + i));
        copies++;
      } else if (r < 0.075) {
        long ts = (Long) original.get("ts");
        long shifted;
        do {
          shifted = ts + (long) ((random.nextDouble() * 2 - 1) * 2 * DAY);
        } while (shifted == ts || shifted < START || shifted >= END);
        Map<String, Object> conflicting = event(random, "e" + i, (String) original.get("user_id"), shifted);
        lines.add(random.nextInt(lines.size() + 1), csv(conflicting));
        if (shifted < ts) {
          byKey.put("e" + i, conflicting);
        }
        copies++;
      }
    }
    for (Map<String, Object> e : byKey.values()) {
      kept.computeIfAbsent((String) e.get("user_id"), k -> new ArrayList<>()).add(e);
    }
    Files.writeString(file, "event_id,user_id,kind,qty,amount,seen_at,ts\n"
        + String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    return copies;
  }

  private static Map<String, Object> event(Random random, String id, String user, long ts) {
    Map<String, Object> e = new HashMap<>();
    e.put("event_id", id);
    e.put("user_id", user);
    e.put("ts", ts);
    e.put("kind", random.nextDouble() < 0.05 ? null : KINDS[random.nextInt(KINDS.length)]);
    e.put("qty", random.nextDouble() < 0.1 ? null : (long) random.nextInt(2_000) - 500);
    // cents: sums of two-decimal amounts are where a float sum drifts
    e.put("amount", random.nextDouble() < 0.1 ? null : random.nextInt(100_000) / 100.0);
    e.put("seen_at", random.nextDouble() < 0.1 ? null : ts - random.nextInt(3_600_000));
    return e;
  }

  private static String csv(Map<String, Object> e) {
    StringBuilder b = new StringBuilder();
    for (String c : List.of("event_id", "user_id", "kind", "qty", "amount", "seen_at", "ts")) {
      if (b.length() > 0) {
        b.append(',');
      }
      Object v = e.get(c);
      if (v != null) {
        b.append(c.equals("ts") || c.equals("seen_at") ? Instant.ofEpochMilli((Long) v).toString() : v.toString());
      }
    }
    return b.toString();
  }

  /**
   * 15% at the end's instant, a third of the rest within two days after it, a third up to 40
   * days after it (past every window), and the rest exactly at, or a millisecond around, the
   * instant one of the entity's events leaves a window; one pair in ten is for an entity never
   * seen.
   */
  private static void choosePairs(Random random, FeatureSpec spec, List<String> entities,
      Map<String, List<Map<String, Object>>> kept, List<String> pairEntity, List<Long> pairAt) {
    List<Long> windows = new ArrayList<>();
    for (FeatureDef f : spec.features()) {
      if (f.windowMillis() != null) {
        windows.add(f.windowMillis());
      }
    }
    for (int i = 0; i < PAIRS; i++) {
      String entity = random.nextInt(10) == 0 ? "never-" + random.nextInt(50)
          : entities.get(random.nextInt(entities.size()));
      long at;
      int kind = random.nextInt(100);
      if (kind < 15) {
        at = END;
      } else if (kind < 43) {
        at = END + (long) (random.nextDouble() * 2 * DAY);
      } else if (kind < 71) {
        at = END + (long) (random.nextDouble() * 40 * DAY);
      } else {
        at = END + 1;
        List<Map<String, Object>> own = kept.get(entity);
        for (int attempt = 0; own != null && attempt < 50; attempt++) {
          long ts = (Long) own.get(random.nextInt(own.size())).get("ts");
          long edge = ts + windows.get(random.nextInt(windows.size())) + random.nextInt(3) - 1;
          if (edge >= END) {
            at = edge;
            break;
          }
        }
      }
      pairEntity.add(entity);
      pairAt.add(at);
    }
  }

  /** A value in one text form, whatever the source gave: Java objects, JSON or Parquet's. */
  private static String norm(FeatureSpec spec, FeatureDef f, Object v) {
    if (v == null || (v instanceof JsonNode && ((JsonNode) v).isNull())) {
      return "null";
    }
    Schema.FieldType type = spec.outputType(f);
    switch (type.getTypeName()) {
      case INT64:
      case INT32:
        return Long.toString(v instanceof JsonNode ? ((JsonNode) v).asLong() : ((Number) v).longValue());
      case DOUBLE:
        return Double.toString(v instanceof JsonNode ? ((JsonNode) v).asDouble() : ((Number) v).doubleValue());
      case BOOLEAN:
        return Boolean.toString(v instanceof JsonNode ? ((JsonNode) v).asBoolean() : (Boolean) v);
      case DATETIME:
        long millis;
        if (v instanceof ReadableInstant) {
          millis = ((ReadableInstant) v).getMillis();
        } else if (v instanceof Instant) {
          millis = ((Instant) v).toEpochMilli();
        } else if (v instanceof JsonNode) {
          millis = Instant.parse(((JsonNode) v).asText()).toEpochMilli();
        } else {
          millis = ((Number) v).longValue(); // Parquet's timestamp-millis
        }
        return Instant.ofEpochMilli(millis).toString();
      default:
        return v instanceof JsonNode ? ((JsonNode) v).asText() : v.toString();
    }
  }

  private static List<String> jsonRow(FeatureSpec spec, JsonNode row) {
    List<String> out = new ArrayList<>();
    for (FeatureDef f : spec.features()) {
      assertThat(f.name(), row.has(f.name()), equalTo(true));
      out.add(norm(spec, f, row.get(f.name())));
    }
    return out;
  }

  private static List<String> recordRow(FeatureSpec spec, GenericRecord r) {
    List<String> out = new ArrayList<>();
    for (FeatureDef f : spec.features()) {
      Object v = r.get(f.name());
      out.add(norm(spec, f, v instanceof CharSequence ? v.toString() : v));
    }
    return out;
  }

  private static void compare(List<String> mismatches, List<FeatureDef> features, String where,
      List<String> expected, List<String> actual) {
    if (actual == null) {
      mismatches.add(where + ": no row");
      return;
    }
    for (int k = 0; k < features.size(); k++) {
      if (!expected.get(k).equals(actual.get(k))) {
        mismatches.add(where + " " + features.get(k).name() + ": expected " + expected.get(k)
            + ", got " + actual.get(k));
      }
    }
  }
}
