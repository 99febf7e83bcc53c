package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --out=kafka://...} against a real broker, started and stopped through
 * runners-config/kafka-local.sh in a state folder of the test's own: the topic holds exactly the
 * records the JSON-lines file gets, paced when asked, and a closed port fails within bounds.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaGenerateTest {
  /** Malformed records (some without a user_id, hence without a key) and duplicates included. */
  private static final List<String> OPTIONS = List.of("--events=5000", "--users=300", "--days=7",
      "--seed=11", "--duplicateFraction=0.02", "--malformedFraction=0.02");
  /** A cold start resolves the broker's jars through Maven first. */
  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  private static Path stateDir;
  private static int port;

  @BeforeAll
  static void startBroker() throws Exception {
    stateDir = tmp.resolve("kafka-state");
    // Left by an earlier run: a start without --keep must begin from an empty data folder.
    Files.createDirectories(stateDir.resolve("data/leftover-0"));
    Files.writeString(stateDir.resolve("data/leftover-0/00000000000000000000.log"), "stale");
    port = freePort();
    Script start = script("start", "--port=" + port);
    assertThat(start.describe(), start.exit(), is(0));
    assertThat(start.describe(), start.output(), containsString("127.0.0.1:" + port));
    assertThat(start.describe(), start.output(), containsString(stateDir.resolve("logs").toString()));
    assertThat("a fresh data folder", Files.exists(stateDir.resolve("data/leftover-0")), is(false));
  }

  @AfterAll
  static void stopBroker() throws Exception {
    Script stop = script("stop");
    assertThat(stop.describe(), stop.exit(), is(0));
    assertThat(Files.exists(stateDir.resolve("kafka.pid")), is(false));
    Script status = script("status");
    assertThat(status.describe(), status.exit(), not(0));
  }

  @Test
  @Order(1)
  void theTopicHoldsExactlyTheJsonLinesFilesRecordsEachPartitionInGenerationOrder() throws IOException {
    Path file = tmp.resolve("events.jsonl");
    Cli.run(with("generate", "--out=" + file)).assertExit(0);
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);

    Cli.Result sent = Cli.run(with("generate", "--out=" + kafka("events"), "--partitions=3")).assertExit(0);
    assertThat(sent.describe(), sent.outLines(), hasSize(1));
    assertThat(sent.out(), containsString("sent " + lines.size() + " records (5000 events, 100 malformed"));
    assertThat(sent.out(), containsString("to " + kafka("events") + " (3 partitions)"));

    Map<Integer, List<ConsumerRecord<String, String>>> byPartition = readAll("events");
    assertThat(byPartition.keySet(), equalTo(Set.of(0, 1, 2)));
    List<String> values = byPartition.values().stream().flatMap(List::stream)
        .map(ConsumerRecord::value).sorted().collect(Collectors.toList());
    assertThat("every record once, nothing else", values,
        equalTo(lines.stream().sorted().collect(Collectors.toList())));

    Map<String, Integer> partitionOfUser = new HashMap<>();
    int withoutKey = 0;
    for (Map.Entry<Integer, List<ConsumerRecord<String, String>>> p : byPartition.entrySet()) {
      // Each partition's records are a subsequence of the file: the order they were generated in.
      int next = 0;
      for (ConsumerRecord<String, String> r : p.getValue()) {
        while (next < lines.size() && !lines.get(next).equals(r.value())) {
          next++;
        }
        assertThat("partition " + p.getKey() + " offset " + r.offset() + " out of generation order",
            next, lessThan(lines.size()));
        next++;
        JsonNode json = JSON.readTree(r.value());
        String userId = json.has("user_id") ? json.get("user_id").asText() : null;
        assertThat("the key is the user_id: " + r.value(), r.key(), equalTo(userId));
        if (userId == null) {
          withoutKey++;
        } else {
          Integer before = partitionOfUser.putIfAbsent(userId, p.getKey());
          assertThat("one partition per user: " + userId, before == null || before == p.getKey(), is(true));
        }
      }
    }
    assertThat("records without a user_id are sent without a key", withoutKey, not(0));
  }

  @Test
  @Order(2)
  void aRateSpreadsTheRecordsEvenlyOverTheRun() throws IOException {
    long started = System.nanoTime();
    Cli.Result r = Cli.run("generate", "--out=" + kafka("paced"), "--events=4000", "--users=100",
        "--days=3", "--rate=2000").assertExit(0);
    double seconds = (System.nanoTime() - started) / 1e9;
    // 4,020 records at 2,000 a second take 2 s; only a lower bound, CI machines are noisy.
    assertThat(r.describe(), seconds, greaterThanOrEqualTo(1.5));

    // Producer timestamps (send time, in ms): record k is sent no earlier than k / 2000 s after
    // the first, so no second's records go out in one burst.
    List<Long> sentAt = readAll("paced").values().stream().flatMap(List::stream)
        .map(ConsumerRecord::timestamp).sorted().collect(Collectors.toList());
    assertThat(sentAt, hasSize(4020));
    for (int k = 0; k < sentAt.size(); k += 100) {
      assertThat("record " + k, sentAt.get(k) - sentAt.get(0), greaterThanOrEqualTo(k / 2L - 2));
    }
  }

  @Test
  @Order(3)
  void aClosedPortFailsWithOneLineWithinBoundedTime() throws IOException {
    int closed = freePort();
    long started = System.nanoTime();
    Cli.Result r = Cli.run("generate", "--out=kafka://127.0.0.1:" + closed + "/events", "--events=10");
    double seconds = (System.nanoTime() - started) / 1e9;
    assertThat(r.describe(), r.exit(), not(0));
    assertThat(r.describe(), r.errLines(), hasSize(1));
    assertThat(r.errLines().get(0), containsString("127.0.0.1:" + closed));
    assertThat(r.describe(), r.outLines(), empty());
    assertThat(seconds, lessThan(30.0));
  }

  @Test
  @Order(4)
  void optionsThatDoNotFitTheTargetAreUsageErrors() {
    String[][] bad = {
        {"generate", "--out=" + tmp.resolve("e.jsonl"), "--rate=100"},
        {"generate", "--out=" + tmp.resolve("e.jsonl"), "--partitions=2"},
        {"generate", "--out=" + kafka("x"), "--shards=2"},
        {"generate", "--out=" + kafka("x"), "--format=csv"},
        {"generate", "--out=" + kafka("x"), "--rate=0"},
        {"generate", "--out=" + kafka("x"), "--rate=fast"},
        {"generate", "--out=" + kafka("x"), "--partitions=0"},
        {"generate", "--out=kafka://127.0.0.1/x"}};
    for (String[] args : bad) {
      Cli.Result r = Cli.run(args).assertExit(2);
      assertThat(r.describe(), r.errLines(), hasSize(1));
    }
  }

  /** start on a running broker reports it; status answers; a restart with --keep keeps the data. */
  @Test
  @Order(5)
  void theScriptStartsOneBrokerAndKeepsItsDataOnlyWhenAsked() throws Exception {
    Script again = script("start", "--port=" + port);
    assertThat(again.describe(), again.exit(), is(0));
    assertThat(again.describe(), again.output(), containsString("already running"));
    Script status = script("status");
    assertThat(status.describe(), status.exit(), is(0));
    Script otherPort = script("start", "--port=" + (port == 65534 ? port - 1 : port + 1));
    assertThat(otherPort.describe(), otherPort.exit(), not(0));

    Cli.run("generate", "--out=" + kafka("kept"), "--events=50").assertExit(0);
    assertThat(script("stop").exit(), is(0));
    assertThat(script("status").exit(), is(3));
    Script keep = script("start", "--port=" + port, "--keep");
    assertThat(keep.describe(), keep.exit(), is(0));
    int kept = readAll("kept").values().stream().mapToInt(List::size).sum();
    assertThat("records sent before the restart", kept, is(50));
  }

  private static String kafka(String topic) {
    return "kafka://127.0.0.1:" + port + "/" + topic;
  }

  private static String[] with(String... first) {
    return Stream.concat(Stream.of(first), OPTIONS.stream()).toArray(String[]::new);
  }

  /** Every record of the topic up to its current end, by partition, in offset order. */
  private static Map<Integer, List<ConsumerRecord<String, String>>> readAll(String topic) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
          .map(p -> new TopicPartition(topic, p.partition())).collect(Collectors.toList());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
      Map<Integer, List<ConsumerRecord<String, String>>> out = new HashMap<>();
      partitions.forEach(p -> out.put(p.partition(), new ArrayList<>()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        assertThat("read the whole topic within 30 s", System.nanoTime(), lessThan(deadline));
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          out.get(r.partition()).add(r);
        }
      }
      return out;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** What one call of the script did: its exit status and its output, both streams merged. */
  record Script(int exit, String output, List<String> args) {
    String describe() {
      return "kafka-local.sh " + String.join(" ", args) + "\n  exit " + exit + "\n--- output:\n" + output;
    }
  }

  /** Runs runners-config/kafka-local.sh with this class's state folder. */
  private static Script script(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Cli.runnerConfig("kafka-local.sh").toString());
    command.addAll(List.of(args));
    Path log = Files.createTempFile(tmp, "script-", ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("KAFKA_LOCAL_DIR", stateDir.toString());
    long started = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("kafka-local.sh " + String.join(" ", args) + " took more than "
          + SCRIPT_TIMEOUT + ":\n" + Files.readString(log));
    }
    // Goes to target/surefire-reports/*-output.txt, like the batch runs' times.
    System.out.printf("kafka-local.sh %s: exit %d in %.1f s%n", String.join(" ", args), p.exitValue(),
        (System.nanoTime() - started) / 1e9);
    return new Script(p.exitValue(), Files.readString(log), List.of(args));
  }
}
