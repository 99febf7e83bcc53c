package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.io.source.KafkaSource;
import dev.featurebeam.io.source.SchemaContractException;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KafkaSource} on the DirectRunner against a real broker, started and stopped through
 * runners-config/kafka-local.sh in a state folder and on a port of the test's own: every message
 * arrives once, malformed ones as malformed records, timestamped with the payload's event time;
 * the watermark passes the last event once every partition is idle, one that never delivers
 * included; a bounded read ends by itself and commits its offsets; a missing topic or a closed port
 * fails within bounds.
 */
@ExtendWith(TestPipelineExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaReadTest {
  private static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: kafka_it",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  amount:  {type: double}",
      "  ts:      {type: timestamp, required: true}",
      "features:",
      "  - {name: n_1d, agg: count, window: 1d}",
      ""));
  private static final Duration IDLE = Duration.standardSeconds(2);
  /** After every event time sent: only idle partitions take the watermark past it. */
  private static final Instant AFTER_LAST = Instant.parse("2025-01-05T11:00:00Z");
  private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(60);

  /** What one message should become: its source, its error (a prefix; null if none), its time. */
  record Expected(String source, @Nullable String error, Instant timestamp) {}

  /** What the pipeline saw of one record, and when. */
  record Seen(String source, @Nullable String error, Map<String, String> fields, Instant timestamp,
      long nanos) {}

  /** When the watermark passed {@link #AFTER_LAST}, and how many records had arrived by then. */
  record Fired(int records, long nanos) {}

  private static final Map<String, Queue<Seen>> SEEN = new ConcurrentHashMap<>();
  private static final Map<String, Fired> FIRED = new ConcurrentHashMap<>();

  @TempDir static Path tmp;
  private static KafkaLocalBroker broker;
  private static KafkaProducer<byte[], byte[]> producer;
  private static final List<Expected> EVENTS = new ArrayList<>();
  private static final List<String> RESTART = new ArrayList<>();

  @BeforeAll
  static void startBrokerAndSend() throws Exception {
    broker = KafkaLocalBroker.start(tmp.resolve("kafka-state"));
    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers()))) {
      admin.createTopics(List.of(new NewTopic("events", 3, (short) 1),
          new NewTopic("restart", 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers(),
        ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());

    // Partition 0: out of order within the bound, a late one, and malformed ones taking the
    // watermark then (the greatest event time so far less 5 s).
    event(0, "u1", json("u1", "\"2025-01-05T10:00:00Z\"", ",\"amount\":1.5"), null, "2025-01-05T10:00:00Z");
    event(0, null, json("u2", "\"2025-01-05T10:00:10Z\""), null, "2025-01-05T10:00:10Z");
    event(0, "u3", json("u3", "\"2025-01-05T10:00:04Z\""), null, "2025-01-05T10:00:04Z");
    event(0, "x", utf8("not json"), "invalid JSON: ", "2025-01-05T10:00:05Z");
    event(0, "u4", json("u4", "1736071230000"), null, "2025-01-05T10:00:30Z"); // epoch millis
    event(0, null, utf8("[1,2]"), "JSON line is not an object", "2025-01-05T10:00:25Z");
    event(0, "u5", utf8("{\"user_id\":\"u5\"}"), null, "2025-01-05T10:00:25Z"); // no event time
    // Partition 1: a binary value before any event time, then empty, null and a bad time.
    event(1, "\u00ff", new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1}, "message value is not UTF-8",
        BoundedWindow.TIMESTAMP_MIN_VALUE);
    event(1, "u6", json("u6", "\"2025-01-05T10:01:00Z\""), null, "2025-01-05T10:01:00Z");
    event(1, "u6", new byte[0], "message value is empty", "2025-01-05T10:00:55Z");
    event(1, "u6", null, "message has no value (a tombstone)", "2025-01-05T10:00:55Z");
    event(1, null, json("u7", "\"yesterday\""), null, "2025-01-05T10:00:55Z");
    event(1, "u8", json("u8", "\"2025-01-05T10:00:58Z\""), null, "2025-01-05T10:00:58Z");
    // Partition 2 stays empty: it must not hold the watermark back.

    for (int i = 0; i < 6; i++) {
      RESTART.add(sendValid("restart", i % 2, "2025-01-06T0" + i + ":00:00Z"));
    }
    producer.flush();
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(10));
    }
    if (broker != null) {
      broker.stop();
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] json(String user, String ts, String... more) {
    return utf8("{\"user_id\":\"" + user + "\",\"ts\":" + ts + String.join("", more) + "}");
  }

  private static long send(String topic, int partition, @Nullable String key, @Nullable byte[] value)
      throws Exception {
    return producer.send(new ProducerRecord<>(topic, partition,
            key == null ? null : key.getBytes(StandardCharsets.ISO_8859_1), value))
        .get(30, TimeUnit.SECONDS).offset();
  }

  private static void event(int partition, @Nullable String key, @Nullable byte[] value,
      @Nullable String error, String timestamp) throws Exception {
    event(partition, key, value, error, Instant.parse(timestamp));
  }

  private static void event(int partition, @Nullable String key, @Nullable byte[] value,
      @Nullable String error, Instant timestamp) throws Exception {
    long offset = send("events", partition, key, value);
    EVENTS.add(new Expected("events/" + partition + "@" + offset, error, timestamp));
  }

  /** Sends a valid event; returns what the bounded read's check expects of it. */
  private static String sendValid(String topic, int partition, String ts) throws Exception {
    long offset = send(topic, partition, "u1", json("u1", "\"" + ts + "\""));
    return topic + "/" + partition + "@" + offset + " " + Instant.parse(ts);
  }

  /** Records every record it sees, with its timestamp, under a run's name. */
  static class Capture extends DoFn<RawRecord, Void> {
    private final String run;

    Capture(String run) {
      this.run = run;
    }

    @ProcessElement
    public void process(@Element RawRecord r, @Timestamp Instant timestamp) {
      SEEN.get(run).add(new Seen(r.source(), r.formatError(), r.fields(), timestamp, System.nanoTime()));
    }
  }

  /** Counts the records; notes when an event-time timer at {@code at} fires. */
  static class WatermarkProbe extends DoFn<KV<String, RawRecord>, Void> {
    private final String run;
    private final Instant at;

    @StateId("records")
    private final StateSpec<ValueState<Integer>> recordsSpec = StateSpecs.value(VarIntCoder.of());

    @TimerId("passed")
    private final TimerSpec passedSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    WatermarkProbe(String run, Instant at) {
      this.run = run;
      this.at = at;
    }

    @ProcessElement
    public void process(
        @StateId("records") ValueState<Integer> records, @TimerId("passed") Timer passed) {
      Integer n = records.read();
      records.write(n == null ? 1 : n + 1);
      passed.set(at);
    }

    @OnTimer("passed")
    public void onPassed(@StateId("records") ValueState<Integer> records) {
      FIRED.put(run, new Fired(records.read(), System.nanoTime()));
    }
  }

  /** {@code source timestamp}, for the bounded reads' checks. */
  static class SourceAndTime extends DoFn<RawRecord, String> {
    @ProcessElement
    public void process(
        @Element RawRecord r, @Timestamp Instant timestamp, OutputReceiver<String> out) {
      out.output(r.source() + " " + timestamp);
    }
  }

  @Test
  @Order(1)
  void everyMessageArrivesOnceWithItsEventTimeAndTheWatermarkPassesOnceThePartitionsAreIdle(
      TestPipeline p) throws Exception {
    String run = "stream";
    SEEN.put(run, new ConcurrentLinkedQueue<>());
    p.getOptions().as(DirectOptions.class).setBlockOnRun(false);
    PCollection<RawRecord> raw = p.apply(KafkaSource.read(broker.servers(), "events", SPEC)
        .withIdleTimeout(IDLE)
        .withGroupId("it-stream")
        .withCommitOffsetsInFinalize(false));
    raw.apply("Capture", ParDo.of(new Capture(run)));
    raw.apply("OneKey", WithKeys.<String, RawRecord>of("all"))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RawRecord.RawRecordCoder.of()))
        .apply("WatermarkProbe", ParDo.of(new WatermarkProbe(run, AFTER_LAST)));

    long started = System.nanoTime();
    PipelineResult result = p.run();
    try {
      while (!FIRED.containsKey(run)) {
        assertThat("the watermark passes " + AFTER_LAST + " within 60 s; records seen: "
            + SEEN.get(run).size() + " of " + EVENTS.size(), System.nanoTime() - started,
            lessThan(WAIT_NANOS));
        Thread.sleep(50);
      }
    } finally {
      result.cancel();
    }
    Fired fired = FIRED.get(run);
    List<Seen> seen = new ArrayList<>(SEEN.get(run));
    long lastSeen = seen.stream().mapToLong(Seen::nanos).max().orElse(started);
    System.out.printf("stream: last record %.1f s after the start, watermark past the last event"
        + " %.1f s after that%n", (lastSeen - started) / 1e9, (fired.nanos() - lastSeen) / 1e9);

    assertThat("every message once, nothing else",
        seen.stream().map(Seen::source).sorted().collect(Collectors.toList()),
        equalTo(EVENTS.stream().map(Expected::source).sorted().collect(Collectors.toList())));
    Map<String, Seen> bySource = new TreeMap<>();
    seen.forEach(s -> bySource.put(s.source(), s));
    for (Expected e : EVENTS) {
      Seen s = bySource.get(e.source());
      if (e.error() == null) {
        assertThat(e.source(), s.error(), nullValue());
      } else {
        assertThat(e.source(), s.error(), startsWith(e.error()));
      }
      assertThat(e.source() + " is timestamped with its event time, or else the watermark",
          s.timestamp(), equalTo(e.timestamp()));
    }
    assertThat(bySource.get("events/0@0").fields(),
        equalTo(Map.of("user_id", "u1", "ts", "2025-01-05T10:00:00Z", "amount", "1.5")));

    assertThat("the watermark passed only after every record had arrived", fired.records(),
        is(EVENTS.size()));
    assertThat("and only once the partitions had been idle",
        fired.nanos() - lastSeen, greaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(IDLE.getMillis() / 2)));
  }

  @Test
  @Order(2)
  void aBoundedReadEndsByItselfAndCommitsTheGroupsOffsets(TestPipeline p) {
    PCollection<String> read = p
        .apply(KafkaSource.read(broker.servers(), "restart", SPEC)
            .withGroupId("it-restart")
            .withMaxReadTime(Duration.standardSeconds(3)))
        .apply(ParDo.of(new SourceAndTime()));
    PAssert.that(read).containsInAnyOrder(RESTART);
    long started = System.nanoTime();
    p.run();
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("bounded read of %d records: %.1f s%n", RESTART.size(), seconds);
    assertThat(seconds, lessThan(30.0));
  }

  @Test
  @Order(3)
  void aRestartOfTheGroupReadsOnlyTheMessagesSentSince(TestPipeline p) throws Exception {
    List<String> since = List.of(sendValid("restart", 0, "2025-01-07T00:00:00Z"),
        sendValid("restart", 1, "2025-01-07T01:00:00Z"));
    PCollection<String> read = p
        .apply(KafkaSource.read(broker.servers(), "restart", SPEC)
            .withGroupId("it-restart")
            .withMaxReadTime(Duration.standardSeconds(3)))
        .apply(ParDo.of(new SourceAndTime()));
    PAssert.that(read).containsInAnyOrder(since);
    p.run();
  }

  @Test
  @Order(4)
  void aPipelineOverAMissingTopicFailsWithoutCreatingIt(TestPipeline p) throws Exception {
    // Not blocking: a created topic would have the read wait on it, and the test with it.
    p.getOptions().as(DirectOptions.class).setBlockOnRun(false);
    p.apply(KafkaSource.read(broker.servers(), "absent", SPEC));
    long started = System.nanoTime();
    RuntimeException e;
    PipelineResult result = null;
    try {
      result = p.run();
      PipelineResult running = result;
      e = assertThrows(RuntimeException.class,
          () -> running.waitUntilFinish(Duration.standardSeconds(30)));
    } catch (RuntimeException failedAtStart) {
      e = failedAtStart;
    } finally {
      if (result != null) {
        result.cancel();
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("a pipeline over a missing topic failed in %.1f s: %s%n", seconds, e);
    assertThat(seconds, lessThan(30.0));
    SchemaContractException check = assertThrows(SchemaContractException.class,
        () -> KafkaSource.checkReachable(broker.servers(), "absent", Duration.standardSeconds(5)));
    assertThat("still absent", check.getMessage(),
        is("Kafka topic absent does not exist at " + broker.servers()));
  }

  @Test
  @Order(5)
  void checkReachableCountsTheTopicsPartitionsAndNamesAMissingOneAtOnce() {
    assertThat(KafkaSource.checkReachable(broker.servers(), "events", Duration.standardSeconds(5)),
        is(3));
    long started = System.nanoTime();
    SchemaContractException e = assertThrows(SchemaContractException.class,
        () -> KafkaSource.checkReachable(broker.servers(), "nothing-here",
            Duration.standardSeconds(5)));
    assertThat(e.getMessage(), is("Kafka topic nothing-here does not exist at " + broker.servers()));
    assertThat((System.nanoTime() - started) / 1e9, lessThan(5.0));
  }

  @Test
  @Order(6)
  void checkReachableOnAClosedPortFailsWithinItsTimeout() throws Exception {
    String closed = "127.0.0.1:" + KafkaLocalBroker.freePort();
    long started = System.nanoTime();
    SchemaContractException e = assertThrows(SchemaContractException.class,
        () -> KafkaSource.checkReachable(closed, "events", Duration.standardSeconds(3)));
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("checkReachable on a closed port: %.1f s%n", seconds);
    assertThat(e.getMessage(), is("no Kafka broker answered at " + closed + " within 3 s"));
    assertThat(seconds, greaterThanOrEqualTo(2.5));
    assertThat(seconds, lessThan(5.0));
    assertThat(e.getMessage(), containsString(closed));
  }
}
