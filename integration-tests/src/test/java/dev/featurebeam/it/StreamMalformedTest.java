package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code featurebeam stream} on Flink's local mode and a real broker, over a topic of two
 * partitions holding a few valid events between bad messages: each bad message is in the run's
 * quarantine with its reason and its TOPIC/PARTITION@OFFSET (the offsets the broker gave them),
 * the valid events are published with the values computed by hand, and the report's counts add
 * up. And with no broker at the address, the command says so in one line and exits 2.
 */
class StreamMalformedTest {
  private static final String FS = "malformed_it";
  private static final String TOPIC = "mixed";
  private static final String FROM = "2025-01-10";
  private static final String TO = "2025-01-11";

  /** A bad message as it should come out of the quarantine. */
  record Bad(String source, String detailPrefix, String payload) {}

  @TempDir static Path tmp;
  private static KafkaLocalBroker broker;
  private static Path spec;
  private static final List<Bad> BAD = new ArrayList<>();
  private static int sent;

  @BeforeAll
  static void produce() throws Exception {
    broker = KafkaLocalBroker.start(tmp.resolve("kafka-state"));
    spec = Files.writeString(tmp.resolve("spec.yaml"), String.join("\n",
        "feature_set: " + FS,
        "version: 1",
        "entity: user_id",
        "timestamp: ts",
        "source_schema:",
        "  user_id: {type: string, required: true}",
        "  amount:  {type: double}",
        "  ts:      {type: timestamp, required: true}",
        "features:",
        "  - {name: n_1d, agg: count, window: 1d}",
        "  - {name: amount_sum_2d, agg: sum, field: amount, window: 2d}",
        ""), StandardCharsets.UTF_8);
    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers()))) {
      admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers(),
        ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
      // Partition 1 starts with a bad message: it has no event time before it (the watermark's
      // minimum) and must still reach validation, not the late records.
      bad(producer, 1, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1},
          "message value is not UTF-8 (4 bytes)");
      valid(producer, 0, "u1", "2.5", "2025-01-09T10:00:00Z");
      bad(producer, 0, utf8("not json"), "invalid JSON: ");
      valid(producer, 1, "u2", "1.0", "2025-01-10T08:00:00Z");
      bad(producer, 0, utf8("[1,2,3]"), "JSON line is not an object");
      valid(producer, 0, "u1", "4.0", "2025-01-10T12:00:00Z");
      bad(producer, 1, new byte[0], "message value is empty");
      bad(producer, 0, null, "message has no value (a tombstone)");
      bad(producer, 1, utf8("  \t "), "JSON line is not an object");
      valid(producer, 1, "u1", "3.0", "2025-01-11T01:00:00Z");
      valid(producer, 0, "u2", "5.5", "2025-01-11T20:00:00Z");
      bad(producer, 0, utf8("{\"user_id\":\"u9\",\"ts\":"), "invalid JSON: ");
      bad(producer, 1, utf8("{\"user_id\":\"u9\"} {}"),
          "JSON line has content after its object");
      // After the last as-of instant: read, and out of range.
      valid(producer, 1, "u3", "7.0", "2025-01-12T03:00:00Z");
      producer.flush();
    }
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.stop();
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Sends one message and returns where the broker put it: TOPIC/PARTITION@OFFSET. */
  private static String send(KafkaProducer<byte[], byte[]> producer, int partition,
      @Nullable byte[] value) throws Exception {
    RecordMetadata at = producer.send(new ProducerRecord<>(TOPIC, partition, null, value))
        .get(30, TimeUnit.SECONDS);
    assertThat(at.partition(), is(partition));
    sent++;
    return at.topic() + "/" + at.partition() + "@" + at.offset();
  }

  private static void valid(KafkaProducer<byte[], byte[]> producer, int partition, String user,
      String amount, String ts) throws Exception {
    send(producer, partition, utf8("{\"user_id\":\"" + user + "\",\"amount\":" + amount
        + ",\"ts\":\"" + ts + "\"}"));
  }

  private static void bad(KafkaProducer<byte[], byte[]> producer, int partition,
      @Nullable byte[] value, String detailPrefix) throws Exception {
    String source = send(producer, partition, value);
    // A tombstone and an empty value have an empty payload; bytes that are not UTF-8 are kept
    // with U+FFFD in place of each invalid sequence.
    BAD.add(new Bad(source, detailPrefix,
        value == null ? "" : new String(value, StandardCharsets.UTF_8)));
  }

  @Test
  void badMessagesAreQuarantinedByOffsetAndTheValidOnesPublished() throws Exception {
    Path out = tmp.resolve("out");
    long started = System.nanoTime();
    Cli.Result run = Cli.run("stream", "--spec=" + spec,
        "--source=kafka://" + broker.servers() + "/" + TOPIC, "--out=" + out,
        "--from=" + FROM, "--to=" + TO, "--idleTimeout=3s",
        "--runnerConfig=" + Cli.runnerConfig(Cli.FLINK_LOCAL), "--progress=false");
    System.out.printf("stream over %d messages: %.1f s%n", sent,
        (System.nanoTime() - started) / 1e9);
    run.assertExit(0);
    assertThat(run.describe(), run.errLines(), equalTo(List.of()));

    // The quarantine: every bad message once, at the offset the broker gave it, nothing else.
    Path runDir = Cli.runDir(out, FS, 1, FROM, TO);
    List<JsonNode> quarantine = Cli.readJsonLines(runDir.resolve("quarantine.jsonl"));
    Map<String, JsonNode> bySource = new TreeMap<>();
    for (JsonNode q : quarantine) {
      assertThat("one record per source: " + q, bySource.put(q.get("source").asText(), q),
          nullValue());
    }
    assertThat(bySource.keySet(),
        equalTo(BAD.stream().map(Bad::source).collect(Collectors.toCollection(
            java.util.TreeSet::new))));
    for (Bad b : BAD) {
      JsonNode q = bySource.get(b.source());
      assertThat(b.source(), q.get("reason").asText(), is("MALFORMED"));
      assertThat(b.source(), q.get("detail").asText(), startsWith(b.detailPrefix()));
      assertThat(b.source(), q.get("payload").asText(), is(b.payload()));
    }
    assertThat("sorted by source, as a batch run's",
        quarantine.stream().map(q -> q.get("source").asText()).collect(Collectors.toList()),
        equalTo(new ArrayList<>(bySource.keySet())));

    // The valid events, published: by hand, end_of_day, windows [T - L, T).
    assertThat(Cli.show(Cli.partitionDir(out, FS, 1, "2025-01-10")).assertExit(0).outLines(),
        equalTo(List.of("user_id,as_of_date,n_1d,amount_sum_2d",
            "u1,2025-01-10,1,6.5",    // 1d: 01-10T12 (4.0); 2d adds 01-09T10 (2.5)
            "u2,2025-01-10,1,1.0")));
    assertThat(Cli.show(Cli.partitionDir(out, FS, 1, TO)).assertExit(0).outLines(),
        equalTo(List.of("user_id,as_of_date,n_1d,amount_sum_2d",
            "u1,2025-01-11,1,7.0",    // 01-11T01 (3.0) and 01-10T12 (4.0)
            "u2,2025-01-11,1,6.5"))); // 01-11T20 (5.5) and 01-10T08 (1.0); u3's is after T
    for (String date : List.of(FROM, TO)) {
      Path partition = Cli.partitionDir(out, FS, 1, date);
      assertThat(Cli.assertReadable(partition), is(2L));
      // The lineage names the topic and the range, in the batch lineage's key order.
      assertThat(Cli.readJson(partition.resolve("_MANIFEST.json")).get("lineage").toString(),
          is("{\"source\":\"kafka://" + broker.servers() + "/" + TOPIC + "\","
              + "\"as_of_range\":\"" + FROM + ".." + TO + "\"}"));
    }

    // The counts: every message read once, the identity holds, the bad ones are the quarantined.
    JsonNode report = Cli.readJson(runDir.resolve("report.json"));
    JsonNode c = report.get("counts");
    assertThat(report.toString(), c.get("read").asLong(), is((long) sent));
    assertThat(report.toString(), c.get("quarantined").asLong(), is((long) BAD.size()));
    assertThat(report.toString(), c.get("valid").asLong(), is(5L));
    // u3's event matters to no date: out of range, or still on its way when the stream stopped.
    assertThat(report.toString(), c.get("out_of_range").asLong() + c.get("in_flight").asLong(),
        is(1L));
    assertThat(report.toString(), c.get("duplicates").asLong(), is(0L));
    assertThat(report.toString(), c.get("blank").asLong(), is(0L));
    assertThat(report.toString(), c.get("late").asLong(), is(0L));
    assertThat(report.toString(), c.get("read").asLong(), is(c.get("valid").asLong()
        + c.get("duplicates").asLong() + c.get("quarantined").asLong()
        + c.get("out_of_range").asLong() + c.get("blank").asLong() + c.get("in_flight").asLong()));
    assertThat(report.toString(), report.get("identity_holds").asBoolean(), is(true));
    // The reasons come from the live Flink metrics, as the counts do.
    assertThat(report.toString(), report.get("quarantine_reasons").get("MALFORMED").asLong(),
        is((long) BAD.size()));
  }

  /**
   * Nothing listens at the address: the command, in its own process as a user runs it, prints
   * one line naming the address on standard error and exits 2 once the topic check gives up
   * (StreamPipeline.REACH_TIMEOUT, 15 s), without starting a pipeline.
   */
  @Test
  void aBrokerThatIsDownIsOneLineAndExitTwo() throws Exception {
    String closed = "127.0.0.1:" + KafkaLocalBroker.freePort();
    Path out = tmp.resolve("out-down");
    long started = System.nanoTime();
    Child child = Child.start(tmp.resolve("child-down"), Map.of(), "stream", "--spec=" + spec,
        "--source=kafka://" + closed + "/" + TOPIC, "--out=" + out, "--from=" + FROM,
        "--to=" + TO, "--runnerConfig=" + Cli.runnerConfig(Cli.FLINK_LOCAL), "--progress=false");
    Cli.Result run = child.await(60);
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("stream with no broker at %s: exit %d in %.1f s%n", closed, run.exit(),
        seconds);
    run.assertExit(2);
    assertThat(run.describe(), run.errLines(),
        equalTo(List.of("featurebeam: stream: no Kafka broker answered at " + closed
            + " within 15 s")));
    assertThat(run.describe(), run.out(), is(""));
    assertThat(run.describe(), run.err(), not(containsString("Exception")));
    assertThat(seconds, lessThan(60.0));
    assertThat("no partition, no run folder", Cli.partitionFolders(out), equalTo(List.of()));
  }
}
