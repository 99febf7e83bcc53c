package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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

/**
 * The stream against the batch path on the same events, on Flink's local mode and a real KRaft
 * broker from runners-config/kafka-local.sh: the generator's events (with duplicates and malformed
 * records) in time order but shuffled within the out-of-orderness bound, produced to a topic of two
 * partitions and written to a JSON-lines file. The stream publishes the batch run's Parquet bytes,
 * manifests equal apart from the input lineage, the same bad records and the same counts.
 */
class StreamParityTest {
  private static final String FS = "user_features";
  private static final String FROM = "2025-01-10";
  private static final String TO = "2025-01-14";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  private static KafkaLocalBroker broker;
  private static Path spec;
  private static Path events;
  private static List<String> lines;

  @BeforeAll
  static void produce() throws Exception {
    broker = KafkaLocalBroker.start(tmp.resolve("kafka-state"));
    // The example spec, with the finite de-duplication horizon a stream needs.
    String text = Files.readString(Cli.fixture("user_features.yaml"), StandardCharsets.UTF_8);
    assertThat(text, containsString("dedup_key: event_id\n"));
    spec = tmp.resolve("spec.yaml");
    Files.writeString(spec, text.replace("dedup_key: event_id\n",
        "dedup_key: event_id\ndedup_within: 1d\n"), StandardCharsets.UTF_8);

    Path generated = Cli.generate(tmp.resolve("generated.jsonl"), Map.of(
        "seed", "11", "events", "3000", "users", "200", "days", "20", "startDate", "2025-01-01",
        "duplicateFraction", "0.02", "malformedFraction", "0.01"));
    // Each line's place: its event time plus up to 4 s, under the 5 s bound, so that the topic
    // is out of order but never late. A line without a readable time keeps the place before it.
    Random random = new Random(5);
    List<Map.Entry<Long, String>> placed = new ArrayList<>();
    long last = 0;
    for (String line : Files.readAllLines(generated, StandardCharsets.UTF_8)) {
      Long ts = eventTime(line);
      long place = ts == null ? last : ts + random.nextInt(4000);
      last = place;
      placed.add(Map.entry(place, line));
    }
    placed.sort(Map.Entry.comparingByKey()); // stable: equal places keep their order
    lines = placed.stream().map(Map.Entry::getValue).collect(Collectors.toList());
    events = Files.write(tmp.resolve("events.jsonl"), lines, StandardCharsets.UTF_8);

    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers()))) {
      admin.createTopics(List.of(new NewTopic("events", 2, (short) 1),
              new NewTopic("restart", 2, (short) 1), new NewTopic("resume", 2, (short) 1),
              new NewTopic("open", 2, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
    send("events", 0, lines.size());
  }

  /** Sends {@code lines[from, to)} to {@code topic}, alternating over its two partitions. */
  private static void send(String topic, int from, int to) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers(),
        ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = from; i < to; i++) {
        producer.send(new ProducerRecord<>(topic, i % 2, null,
            lines.get(i).getBytes(StandardCharsets.UTF_8)));
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

  private static Path batchOut;

  /** The batch run over the events' file that every stream is held to; run once. */
  private static synchronized Path batchRun() throws Exception {
    if (batchOut == null) {
      Path out = tmp.resolve("out-batch");
      Cli.batch("flink-local.args", spec, events, out, "--from=" + FROM, "--to=" + TO)
          .assertExit(0);
      batchOut = out;
    }
    return batchOut;
  }

  /** The stream command over {@code topic} into {@code out} from FROM on Flink local, and more. */
  private static String[] streamArgs(String topic, Path out, String... more) {
    List<String> args = new ArrayList<>(List.of("stream", "--spec=" + spec,
        "--source=kafka://" + broker.servers() + "/" + topic, "--out=" + out, "--from=" + FROM,
        "--runnerConfig=" + Cli.runnerConfig("flink-local.args"), "--progress=false"));
    args.addAll(List.of(more));
    return args.toArray(new String[0]);
  }

  /** The index of the first line whose event time is at or after {@code instant}. */
  private static int firstAtOrAfter(String instant) {
    long cut = Instant.parse(instant).toEpochMilli();
    int first = 0;
    while (first < lines.size() && !(eventTime(lines.get(first)) != null
        && eventTime(lines.get(first)) >= cut)) {
      first++;
    }
    return first;
  }

  /** A line's event time as the spec reads it (ISO text or epoch milliseconds), or null. */
  private static Long eventTime(String line) {
    try {
      JsonNode ts = JSON.readTree(line).get("ts");
      if (ts == null || ts.isNull()) {
        return null;
      }
      return ts.isNumber() ? ts.asLong() : java.time.OffsetDateTime.parse(ts.asText())
          .toInstant().toEpochMilli();
    } catch (Exception e) {
      return null; // malformed, or a time the spec quarantines
    }
  }

  @Test
  void theStreamPublishesWhatTheBatchRunPublishes() throws Exception {
    Path batch = batchRun();
    Path stream = tmp.resolve("out-stream");
    long started = System.nanoTime();
    Cli.Result run = Cli.run(streamArgs("events", stream, "--to=" + TO, "--idleTimeout=5s"));
    run.assertExit(0);
    assertThat(run.describe(), run.out(), containsString("FeatureBeam stream: user_features v1"));
    System.out.printf("stream: %.1f s%n", (System.nanoTime() - started) / 1e9);

    // Parquet files: the same bytes.
    SortedMap<String, String> fromBatch = Cli.only(Cli.snapshot(Cli.versionDir(batch, FS, 1)),
        Cli::isParquetPart);
    SortedMap<String, String> fromStream = Cli.only(Cli.snapshot(Cli.versionDir(stream, FS, 1)),
        Cli::isParquetPart);
    assertThat(fromBatch.size(), is(5));
    assertThat(fromStream, equalTo(fromBatch));

    // Manifests: equal apart from the lineage, which names what each read.
    for (String date : List.of("2025-01-10", "2025-01-11", "2025-01-12", "2025-01-13", TO)) {
      ObjectNode b = (ObjectNode) Cli.readJson(
          Cli.partitionDir(batch, FS, 1, date).resolve("_MANIFEST.json"));
      ObjectNode s = (ObjectNode) Cli.readJson(
          Cli.partitionDir(stream, FS, 1, date).resolve("_MANIFEST.json"));
      assertThat(s.get("lineage").get("source").asText(), containsString("kafka://"));
      b.remove("lineage");
      s.remove("lineage");
      assertThat(date, s, equalTo(b));
    }

    // The same bad records, by reason and payload (their sources are a line and an offset).
    Path batchRun = Cli.runDir(batch, FS, 1, FROM, TO);
    Path streamRun = Cli.runDir(stream, FS, 1, FROM, TO);
    assertThat(badRecords(streamRun), equalTo(badRecords(batchRun)));
    assertThat(badRecords(batchRun).isEmpty(), is(false));
    for (JsonNode q : Cli.readJsonLines(streamRun.resolve("quarantine.jsonl"))) {
      assertThat(q.get("source").asText(), org.hamcrest.Matchers.matchesPattern("events/[01]@\\d+"));
    }

    // The same counts; what batch calls out of range the stream may still hold when it stops.
    JsonNode bc = Cli.readJson(batchRun.resolve("report.json")).get("counts");
    JsonNode sc = Cli.readJson(streamRun.resolve("report.json")).get("counts");
    for (String c : List.of("read", "valid", "duplicates_exact", "duplicates_conflicting",
        "quarantined", "feature_rows")) {
      assertThat(c, sc.get(c).asLong(), is(bc.get(c).asLong()));
    }
    assertThat(sc.get("late").asLong(), is(0L));
    assertThat(sc.get("out_of_range").asLong() + sc.get("in_flight").asLong(),
        is(bc.get("out_of_range").asLong()));
    assertThat(Cli.readJson(streamRun.resolve("report.json")).get("identity_holds").asBoolean(),
        is(true));
    assertThat("the stream's staging is gone",
        Files.exists(Cli.versionDir(stream, FS, 1).resolve("_staging")), is(false));
  }

  /**
   * A stream without checkpoints killed with SIGKILL after its first dates are out, while the
   * topic has only part of the events, and started again with the rest there: the partitions are
   * the batch run's bytes and the report counts every event once (each run reads the topic from
   * its start).
   */
  @Test
  void aStreamKilledMidwayAndStartedAgainPublishesTheBatchBytes() throws Exception {
    Path batch = batchRun();
    Path stream = tmp.resolve("out-restart");
    int first = firstAtOrAfter("2025-01-12T12:00:00Z");
    send("restart", 0, first);
    String[] args = streamArgs("restart", stream, "--to=" + TO, "--idleTimeout=10m",
        "--checkpointingInterval=-1");
    Child child = Child.start(tmp.resolve("child"), Map.of(), args);
    // The watermark stops about 2025-01-12T12:00: 2025-01-10 and -11 are published, then it waits.
    Path second = Cli.partitionDir(stream, FS, 1, "2025-01-11").resolve("_MANIFEST.json");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.exists(second)) {
      assertThat(child.errSoFar(), child.isAlive(), is(true));
      assertThat("2025-01-11 not published within 3 minutes", System.nanoTime() < deadline,
          is(true));
      Thread.sleep(100);
    }
    child.kill();
    assertThat(Files.exists(Cli.partitionDir(stream, FS, 1, "2025-01-12")), is(false));

    send("restart", first, lines.size());
    String[] again = streamArgs("restart", stream, "--to=" + TO, "--idleTimeout=5s",
        "--checkpointingInterval=-1");
    Cli.Result run = Cli.run(again);
    run.assertExit(0);

    assertThat(Cli.only(Cli.snapshot(Cli.versionDir(stream, FS, 1)), Cli::isParquetPart),
        equalTo(Cli.only(Cli.snapshot(Cli.versionDir(batch, FS, 1)), Cli::isParquetPart)));
    JsonNode report = Cli.readJson(Cli.runDir(stream, FS, 1, FROM, TO).resolve("report.json"));
    JsonNode bc = Cli.readJson(Cli.runDir(batch, FS, 1, FROM, TO).resolve("report.json"))
        .get("counts");
    assertThat(report.get("counts").get("read").asLong(), is((long) lines.size()));
    assertThat(report.get("counts").get("valid").asLong(), is(bc.get("valid").asLong()));
    assertThat(report.get("identity_holds").asBoolean(), is(true));
    assertThat(Files.exists(Cli.versionDir(stream, FS, 1).resolve("_staging")), is(false));
  }

  /**
   * A checkpointed stream killed with SIGKILL once a checkpoint taken after its first two dates
   * were published is on disk, while the topic has only part of the events, and started again with
   * the same command and the rest there: it resumes from that checkpoint (it says so, and leaves
   * the dates the checkpoint had published untouched), publishes the batch run's bytes, holds the
   * batch run's bad records, and counts every event once although the restored job's own metrics
   * start from zero.
   */
  @Test
  void aCheckpointedStreamKilledMidwayResumesFromItsCheckpoint() throws Exception {
    Path batch = batchRun();
    Path stream = tmp.resolve("out-resume");
    int first = firstAtOrAfter("2025-01-12T12:00:00Z");
    send("resume", 0, first);
    // Neither partition is idle before the last date: both run past it once all is sent.
    String[] args = streamArgs("resume", stream, "--to=" + TO, "--idleTimeout=10m",
        "--checkpointingInterval=1000");
    Child child = Child.start(tmp.resolve("child-resume"), Map.of(), args);
    awaitPublishedAndCheckpointed(child, stream, "2025-01-11", Cli.versionDir(stream, FS, 1)
        .resolve("_streams").resolve(FROM + "_" + TO).resolve("checkpoints"));
    child.kill();
    assertThat(Files.exists(Cli.partitionDir(stream, FS, 1, "2025-01-12")), is(false));
    Object firstManifest = Files.readAttributes(
        Cli.partitionDir(stream, FS, 1, "2025-01-10").resolve("_MANIFEST.json"),
        java.nio.file.attribute.BasicFileAttributes.class).fileKey();

    send("resume", first, lines.size());
    Cli.Result run = Cli.run(args);
    run.assertExit(0);
    assertThat(run.describe(), run.err(), containsString("resuming from the checkpoint"));
    assertThat("the checkpoint had published 2025-01-10: not published again",
        Files.readAttributes(Cli.partitionDir(stream, FS, 1, "2025-01-10").resolve(
            "_MANIFEST.json"), java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
        equalTo(firstManifest));

    assertThat(Cli.only(Cli.snapshot(Cli.versionDir(stream, FS, 1)), Cli::isParquetPart),
        equalTo(Cli.only(Cli.snapshot(Cli.versionDir(batch, FS, 1)), Cli::isParquetPart)));
    Path batchRun = Cli.runDir(batch, FS, 1, FROM, TO);
    Path streamRun = Cli.runDir(stream, FS, 1, FROM, TO);
    assertThat(badRecords(streamRun), equalTo(badRecords(batchRun)));
    JsonNode report = Cli.readJson(streamRun.resolve("report.json"));
    JsonNode bc = Cli.readJson(batchRun.resolve("report.json")).get("counts");
    JsonNode sc = report.get("counts");
    assertThat(sc.get("read").asLong(), is((long) lines.size()));
    for (String c : List.of("valid", "quarantined", "feature_rows")) {
      assertThat(c, sc.get(c).asLong(), is(bc.get(c).asLong()));
    }
    // Copies of events after the last date may still wait for their day's decision when the
    // stream stops: they are in flight, not lost, and never counted twice.
    assertThat(sc.get("duplicates").asLong(), lessThanOrEqualTo(bc.get("duplicates").asLong()));
    assertThat(sc.get("duplicates").asLong() + sc.get("out_of_range").asLong()
        + sc.get("in_flight").asLong(),
        is(bc.get("duplicates").asLong() + bc.get("out_of_range").asLong()));
    assertThat(report.get("quarantine_reasons"), equalTo(
        Cli.readJson(batchRun.resolve("report.json")).get("quarantine_reasons")));
    assertThat(report.get("identity_holds").asBoolean(), is(true));
    assertThat("nothing is left to resume", Files.exists(
        Cli.versionDir(stream, FS, 1).resolve("_streams")), is(false));
    assertThat(Files.exists(Cli.versionDir(stream, FS, 1).resolve("_staging")), is(false));
  }

  /**
   * Without --to the stream runs until it is stopped, publishing each date as it closes: killed
   * after a checkpoint, with the topic holding events up to 2025-01-13T12:00, it has published
   * 2025-01-10 to -12 with the batch bytes and not -13; started again with the same command and
   * the rest of the topic there, it goes on from its checkpoint and publishes -13 and -14 with the
   * batch bytes too. It never writes a report: no run of it ended.
   */
  @Test
  void anOpenEndedStreamPublishesEachDateAsItClosesAndResumesWhenStartedAgain() throws Exception {
    Path batch = batchRun();
    Path stream = tmp.resolve("out-open");
    int first = firstAtOrAfter("2025-01-13T12:00:00Z");
    send("open", 0, first);
    String[] args = streamArgs("open", stream, "--idleTimeout=10m",
        "--checkpointingInterval=1000");
    Path checkpoints = Cli.versionDir(stream, FS, 1).resolve("_streams").resolve(FROM + "_")
        .resolve("checkpoints");
    Child child = Child.start(tmp.resolve("child-open"), Map.of(), args);
    awaitPublishedAndCheckpointed(child, stream, "2025-01-12", checkpoints);
    child.kill();
    assertThat(Files.exists(Cli.partitionDir(stream, FS, 1, "2025-01-13")), is(false));
    SortedMap<String, String> fromBatch = Cli.only(Cli.snapshot(Cli.versionDir(batch, FS, 1)),
        Cli::isParquetPart);
    assertThat(Cli.only(Cli.snapshot(Cli.versionDir(stream, FS, 1)), Cli::isParquetPart),
        equalTo(Cli.only(fromBatch, path -> !path.contains("2025-01-13")
            && !path.contains("2025-01-14"))));

    send("open", first, lines.size());
    Child again = Child.start(tmp.resolve("child-open-again"), Map.of(), args);
    awaitPublishedAndCheckpointed(again, stream, TO, checkpoints);
    again.kill();
    assertThat(again.errSoFar(), containsString("resuming from the checkpoint"));
    // It may have gone on past the batch run's last date before it was killed.
    assertThat(Cli.only(Cli.snapshot(Cli.versionDir(stream, FS, 1)), path -> Cli.isParquetPart(path)
        && path.compareTo("as_of_date=" + TO + "/~") < 0), equalTo(fromBatch));
    assertThat("no run ended, so no report", Files.exists(
        Cli.versionDir(stream, FS, 1).resolve("_runs")), is(false));
  }

  /** Waits until {@code date} is published and a checkpoint newer than it is on disk. */
  private static void awaitPublishedAndCheckpointed(Child child, Path stream, String date,
      Path checkpoints) throws Exception {
    Path manifest = Cli.partitionDir(stream, FS, 1, date).resolve("_MANIFEST.json");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!(Files.exists(manifest) && newestCheckpoint(checkpoints)
        > Files.getLastModifiedTime(manifest).toMillis())) {
      assertThat(child.errSoFar(), child.isAlive(), is(true));
      assertThat("no checkpoint after " + date + " was published within 3 minutes",
          System.nanoTime() < deadline, is(true));
      Thread.sleep(100);
    }
  }

  /** The modification time of the newest completed checkpoint under {@code root}; 0 if none. */
  private static long newestCheckpoint(Path root) throws Exception {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    try (java.util.stream.Stream<Path> all = Files.walk(root)) {
      return all.filter(p -> p.getFileName().toString().equals("_metadata"))
          .mapToLong(p -> p.toFile().lastModified()).max().orElse(0);
    } catch (java.io.UncheckedIOException e) {
      return 0; // Flink renamed or removed a file under the walk: look again at the next poll
    }
  }

  /** A topic that does not exist: one line naming it, exit 2, without waiting for a pipeline. */
  @Test
  void aMissingTopicIsOneLineAndExitTwo() {
    long started = System.nanoTime();
    Cli.Result run = Cli.run("stream", "--spec=" + spec,
        "--source=kafka://" + broker.servers() + "/no-such-topic", "--out=" + tmp.resolve("o"),
        "--from=" + FROM, "--to=" + TO, "--progress=false");
    run.assertExit(2);
    assertThat(run.describe(), run.err().strip().lines().count(), is(1L));
    assertThat(run.describe(), run.err(), containsString("no-such-topic"));
    assertThat((System.nanoTime() - started) / 1e9, lessThan(30.0));
  }

  /** A spec with a dedup_key but no dedup_within is refused for a stream, naming the fix. */
  @Test
  void aStreamNeedsAFiniteDedupWithin() throws Exception {
    Cli.Result run = Cli.run("stream", "--spec=" + Cli.fixture("user_features.yaml"),
        "--source=kafka://" + broker.servers() + "/events", "--out=" + tmp.resolve("o2"),
        "--from=" + FROM, "--to=" + TO, "--progress=false");
    run.assertExit(2);
    assertThat(run.describe(), run.err(), containsString("dedup_within"));
    assertThat(run.describe(), run.err(), not(containsString("Exception")));
  }

  /**
   * {@code --allowedLateness=1h}: an event of 2025-01-11 23:50 that arrives after events of
   * 2025-01-12 00:30 (so 35 minutes behind the events' watermark) still counts for 2025-01-11,
   * and the partitions are the bytes of a batch run over all events; without it, the batch's
   * 2025-01-11 would differ, so the event did count.
   */
  @Test
  void anAllowedLatenessLetsAnEventThatFarBehindTheWatermarkCount() throws Exception {
    int after = 0;
    long halfPast = Instant.parse("2025-01-12T00:30:00Z").toEpochMilli();
    while (eventTime(lines.get(after)) == null || eventTime(lines.get(after)) < halfPast) {
      after++;
    }
    ObjectNode late = JSON.createObjectNode();
    late.put("event_id", "late-by-35-minutes");
    late.put("user_id", "u-late");
    late.put("event_type", "view");
    late.put("ts", "2025-01-11T23:50:00Z");
    List<String> withLate = new ArrayList<>(lines);
    withLate.add(after + 1, JSON.writeValueAsString(late));
    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers()))) {
      admin.createTopics(List.of(new NewTopic("lateness", 1, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers(),
        ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
      for (String line : withLate) {
        producer.send(new ProducerRecord<>("lateness", 0, null,
            line.getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
    Path allEvents = Files.write(tmp.resolve("events-late.jsonl"), withLate,
        StandardCharsets.UTF_8);
    Path batch = tmp.resolve("out-batch-late");
    Path stream = tmp.resolve("out-stream-late");
    Cli.batch("flink-local.args", spec, allEvents, batch, "--from=" + FROM, "--to=" + TO)
        .assertExit(0);
    Cli.Result run = Cli.run(streamArgs("lateness", stream, "--to=" + TO, "--idleTimeout=5s",
        "--allowedLateness=1h"));
    run.assertExit(0);
    assertThat(Cli.only(Cli.snapshot(Cli.versionDir(stream, FS, 1)), Cli::isParquetPart),
        equalTo(Cli.only(Cli.snapshot(Cli.versionDir(batch, FS, 1)), Cli::isParquetPart)));
    JsonNode counts =
        Cli.readJson(Cli.runDir(stream, FS, 1, FROM, TO).resolve("report.json")).get("counts");
    assertThat(counts.get("late").asLong(), is(0L));
    assertThat(counts.get("read").asLong(), is((long) withLate.size()));

    Path without = tmp.resolve("out-batch-without-late");
    Cli.batch("flink-local.args", spec, events, without, "--from=" + FROM, "--to=" + TO)
        .assertExit(0);
    SortedMap<String, String> jan11 = Cli.only(Cli.snapshot(
        Cli.partitionDir(batch, FS, 1, "2025-01-11")), Cli::isParquetPart);
    assertThat(Cli.only(Cli.snapshot(Cli.partitionDir(without, FS, 1, "2025-01-11")),
        Cli::isParquetPart), not(equalTo(jan11)));
  }

  /** Reason and payload of each quarantined record, counted. */
  private static SortedMap<String, Integer> badRecords(Path runDir) throws Exception {
    SortedMap<String, Integer> out = new TreeMap<>();
    for (JsonNode q : Cli.readJsonLines(runDir.resolve("quarantine.jsonl"))) {
      out.merge(q.get("reason").asText() + " " + q.get("payload").asText(), 1, Integer::sum);
    }
    return out;
  }
}
