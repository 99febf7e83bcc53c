package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.pipelines.online.FeatureRow;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * {@code stream --onlineStore} on a real KRaft broker and the machine's Redis: a batch run
 * bootstraps the store up to a date, the stream goes on from the base it stored, and every entity
 * then answers exactly what a batch run over all the events stores, at the end and hours later. A
 * second, fresh stream replays the whole topic into the same store while a watcher reads every
 * entity's (latest event, count) many times a second: none ever moves back.
 */
class StreamOnlineStoreTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STREAMED = "redis://127.0.0.1:6379/11";
  private static final String BATCH = "redis://127.0.0.1:6379/10";
  /** end_of_day: after every generated event (2025-01-01 to 01-20), before the sentinels. */
  private static final long T = Instant.parse("2025-01-22T00:00:00Z").toEpochMilli();

  @TempDir static Path tmp;
  private static KafkaLocalBroker broker;
  private static Path spec;
  private static Path events;
  private static List<String> lines;
  private static TreeSet<String> users = new TreeSet<>();

  @BeforeAll
  static void produce() throws Exception {
    for (int db : new int[] {10, 11}) {
      try (Jedis j = new Jedis("127.0.0.1", 6379)) {
        j.select(db);
        j.flushDB();
      }
    }
    broker = KafkaLocalBroker.start(tmp.resolve("kafka-state"));
    String text = Files.readString(Cli.fixture("user_features.yaml"), StandardCharsets.UTF_8);
    spec = tmp.resolve("spec.yaml");
    Files.writeString(spec, text.replace("dedup_key: event_id\n",
        "dedup_key: event_id\ndedup_within: 1d\n"), StandardCharsets.UTF_8);
    Path generated = Cli.generate(tmp.resolve("generated.jsonl"), Map.of(
        "seed", "23", "events", "4000", "users", "150", "days", "20", "startDate", "2025-01-01",
        "duplicateFraction", "0.03", "malformedFraction", "0.01"));
    lines = new ArrayList<>(Files.readAllLines(generated, StandardCharsets.UTF_8));
    for (String line : lines) {
      try {
        JsonNode user = JSON.readTree(line).get("user_id");
        if (user != null && user.isTextual()) {
          users.add(user.asText());
        }
      } catch (Exception e) {
        // a malformed line: no user to compare
      }
    }
    events = Files.write(tmp.resolve("events.jsonl"), lines, StandardCharsets.UTF_8);
    // One event per partition after T, so that the watermark passes T and the stream ends.
    List<String> topic = new ArrayList<>(lines);
    topic.add("{\"event_id\":\"s1\",\"user_id\":\"sentinel\",\"ts\":\"2025-01-23T00:00:00Z\"}");
    topic.add("{\"event_id\":\"s2\",\"user_id\":\"sentinel\",\"ts\":\"2025-01-23T00:00:01Z\"}");
    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers()))) {
      admin.createTopics(List.of(new NewTopic("online", 2, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers(),
        ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < topic.size(); i++) {
        producer.send(new ProducerRecord<>("online", i % 2, null,
            topic.get(i).getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.stop();
    }
  }

  private static Cli.Result stream(Path out) {
    return Cli.run("stream", "--spec=" + spec,
        "--source=kafka://" + broker.servers() + "/online", "--out=" + out,
        "--from=2025-01-20", "--to=2025-01-21", "--idleTimeout=5s",
        "--onlineStore=" + STREAMED, "--runnerConfig=" + Cli.runnerConfig("flink-local.args"),
        "--progress=false");
  }

  @Test
  void aStreamFromABatchBaseAnswersAsTheBatchPathAndAReplayNeverMovesBack() throws Exception {
    FeatureSpec parsed = SpecParser.parse(spec);
    // The bootstrap: the state as of 2025-01-15's end; the stream goes on from it.
    Cli.batch(Cli.DIRECT, spec, events, tmp.resolve("out-base"), "--asOfDate=2025-01-15",
        "--onlineStore=" + STREAMED).assertExit(0);
    // What the stream is held to: a batch run over every event, as of T.
    Cli.batch(Cli.DIRECT, spec, events, tmp.resolve("out-all"), "--asOfDate=2025-01-21",
        "--onlineStore=" + BATCH).assertExit(0);

    Cli.Result first = stream(tmp.resolve("out-stream"));
    first.assertExit(0);
    try (OnlineFeatures streamed = OnlineFeatures.open(parsed, STREAMED);
        OnlineFeatures batch = OnlineFeatures.open(parsed, BATCH)) {
      List<String> ids = new ArrayList<>(users);
      assertThat(ids.size(), greaterThan(100));
      awaitEqual(streamed, batch, ids);
      for (long at : new long[] {T, T + 1, T + 5 * 3_600_000L + 17, T + 9 * 86_400_000L}) {
        assertThat(mismatches(streamed, batch, ids, at), empty());
      }

      // A fresh stream replays the topic into the same store; a watcher looks on.
      List<String> keys = new ArrayList<>();
      for (String id : ids) {
        keys.add(RedisStateStore.key(parsed.featureSet(), parsed.version(), id));
      }
      ConcurrentLinkedQueue<String> backwards = new ConcurrentLinkedQueue<>();
      AtomicBoolean done = new AtomicBoolean();
      int[] looks = {0};
      Thread watcher = new Thread(() -> {
        Map<String, long[]> last = new TreeMap<>();
        try (RedisStateStore store = RedisStateStore.open(STREAMED)) {
          while (!done.get()) {
            List<RedisStateStore.Stored> now = store.readAll(keys, new long[0]);
            for (int i = 0; i < keys.size(); i++) {
              RedisStateStore.Stored s = now.get(i);
              long[] seen = last.get(keys.get(i));
              if (s == null) {
                if (seen != null) {
                  backwards.add(keys.get(i) + " vanished");
                }
                continue;
              }
              if (seen != null && (s.latest() < seen[0]
                  || (s.latest() == seen[0] && s.count() < seen[1]))) {
                backwards.add(keys.get(i) + ": " + seen[0] + "/" + seen[1] + " -> " + s.latest()
                    + "/" + s.count());
              }
              last.put(keys.get(i), new long[] {s.latest(), s.count()});
            }
            looks[0]++;
          }
        }
      });
      watcher.start();
      Cli.Result replay = stream(tmp.resolve("out-replay"));
      done.set(true);
      watcher.join();
      replay.assertExit(0);
      assertThat(looks[0], greaterThan(10));
      assertThat("states that moved back", new ArrayList<>(backwards), empty());
      assertThat(mismatches(streamed, batch, ids, T), empty());
    }
  }

  /** Polls: the last writes land within a second of the stream's last events. */
  private static void awaitEqual(OnlineFeatures streamed, OnlineFeatures batch, List<String> ids)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + 30_000;
    List<String> wrong = mismatches(streamed, batch, ids, T);
    while (!wrong.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      wrong = mismatches(streamed, batch, ids, T);
    }
    assertThat(wrong, empty());
  }

  private static List<String> mismatches(OnlineFeatures streamed, OnlineFeatures batch,
      List<String> ids, long at) {
    List<String> wrong = new ArrayList<>();
    List<FeatureRow> s = streamed.getAll(ids, at);
    List<FeatureRow> b = batch.getAll(ids, at);
    for (int i = 0; i < ids.size(); i++) {
      if (!s.get(i).values().equals(b.get(i).values())) {
        wrong.add(ids.get(i) + " at " + Instant.ofEpochMilli(at) + ": stream " + s.get(i).values()
            + " batch " + b.get(i).values());
      }
    }
    assertThat("every user has events", b.stream().allMatch(FeatureRow::held), equalTo(true));
    return wrong;
  }
}
