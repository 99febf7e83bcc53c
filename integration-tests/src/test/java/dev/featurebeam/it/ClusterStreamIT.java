package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.featurebeam.pipelines.online.FeatureRow;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
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
import redis.clients.jedis.Jedis;

/**
 * The shaded jar's checkpointed stream on a real Flink session cluster that loses a TaskManager
 * halfway through the topic. A KRaft broker (runners-config/kafka-local.sh) and a JobManager with
 * two TaskManagers (runners-config/flink-cluster.sh, a state folder and port of the test's own)
 * run as processes of their own; the stream is submitted with {@code --flinkMaster}, checkpoints
 * every 2 s into the cluster's {@code state.checkpoints.dir} (a local folder every process of the
 * cluster shares) and writes the online store too. Once half the topic is read and a checkpoint
 * newer than the first published dates is complete, TaskManager 1 is killed with SIGKILL and a
 * new one is started; the cluster's restart strategy (fixed delay, from the script's config.yaml)
 * restores the job from its last checkpoint. Then the rest of the topic is produced and the stream
 * ends by itself at {@code --to}.
 *
 * <p>What must hold: the job restarted and restored a checkpoint (the REST API says so), the
 * published partitions are a batch run's bytes over the same events, every event is counted
 * exactly once (the report's counts equal the batch run's), and the online store serves, for
 * every entity and several instants, what a batch run's online load serves. A second stream,
 * whose command gets SIGTERM before its last date, cancels its job on the cluster on its way out.
 *
 * <p>Redis database 7, emptied first. Slow (cluster start, a 230 MB jar upload, a restart): only
 * {@code -Pcluster} runs it, through failsafe.
 */
class ClusterStreamIT {
  private static final String FS = "user_features";
  /** The batch reference's online keys: the same spec under another feature set name. */
  private static final String FS_BATCH = "user_features_batch";
  private static final String FROM = "2025-01-16";
  private static final String TO = "2025-01-21";
  private static final List<String> DATES = List.of("2025-01-16", "2025-01-17", "2025-01-18",
      "2025-01-19", "2025-01-20", TO);
  /** Where the topic is cut: the kill happens while the stream has read only what is before. */
  private static final String CUT = "2025-01-18T12:00:00Z";
  private static final String STORE = "redis://127.0.0.1:6379/7";
  /** end_of_day of TO: after every generated event (2025-01-01 to 01-20), before the sentinels. */
  private static final long T = Instant.parse("2025-01-22T00:00:00Z").toEpochMilli();
  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path tmp;
  private static KafkaLocalBroker broker;
  private static Path stateDir;
  private static int port;
  private static Path spec;
  private static Path batchSpec;
  private static Path events;
  private static List<String> lines;
  private static final TreeSet<String> users = new TreeSet<>();
  private static Process stream;
  /** Every command this class started, for the end to stop what a failed test left running. */
  private static final List<Process> commands = new ArrayList<>();
  private static Path streamLog;

  @BeforeAll
  static void startServices() throws Exception {
    try (Jedis j = new Jedis("127.0.0.1", 6379)) {
      j.select(7);
      j.flushDB();
    }
    broker = KafkaLocalBroker.start(tmp.resolve("kafka-state"));
    stateDir = tmp.resolve("flink-state");
    port = KafkaLocalBroker.freePort();
    Script start = script("start", "--taskmanagers=2", "--port=" + port, "--slots=2");
    assertThat(start.describe(), start.exit(), is(0));
    assertThat(taskManagerIds(), equalTo(Set.of("taskmanager-1", "taskmanager-2")));

    // The example spec with the finite de-duplication horizon a stream needs; the batch
    // reference's copy differs only in its name, so that its online keys are its own.
    String text = Files.readString(Cli.fixture("user_features.yaml"), StandardCharsets.UTF_8);
    assertThat(text, containsString("dedup_key: event_id\n"));
    assertThat(text, containsString("feature_set: " + FS + "\n"));
    text = text.replace("dedup_key: event_id\n", "dedup_key: event_id\ndedup_within: 1d\n");
    spec = Files.writeString(tmp.resolve("spec.yaml"), text, StandardCharsets.UTF_8);
    batchSpec = Files.writeString(tmp.resolve("spec-batch.yaml"),
        text.replace("feature_set: " + FS + "\n", "feature_set: " + FS_BATCH + "\n"),
        StandardCharsets.UTF_8);

    // 4000 events of 150 users over 2025-01-01..20, with duplicates (exact and conflicting) and
    // malformed records, out of order within the 5 s bound as StreamParityTest places them.
    Path generated = Cli.generate(tmp.resolve("generated.jsonl"), Map.of(
        "seed", "29", "events", "4000", "users", "150", "days", "20", "startDate", "2025-01-01",
        "duplicateFraction", "0.03", "malformedFraction", "0.01"));
    Random random = new Random(13);
    List<Map.Entry<Long, String>> placed = new ArrayList<>();
    long last = 0;
    for (String line : Files.readAllLines(generated, StandardCharsets.UTF_8)) {
      Long ts = eventTime(line);
      long place = ts == null ? last : ts + random.nextInt(4000);
      last = place;
      placed.add(Map.entry(place, line));
    }
    placed.sort(Map.Entry.comparingByKey());
    lines = placed.stream().map(Map.Entry::getValue).collect(Collectors.toList());
    for (String line : lines) {
      try {
        JsonNode user = JSON.readTree(line).get("user_id");
        if (user != null && user.isTextual() && !user.asText().isBlank()) {
          users.add(user.asText());
        }
      } catch (IOException e) {
        // a malformed line: no user to compare
      }
    }
    // One event in each partition after T, so that the watermark passes TO's instant and the
    // stream ends; the batch run reads them too (out of its range).
    lines.add("{\"event_id\":\"s1\",\"user_id\":\"sentinel\",\"ts\":\"2025-01-23T00:00:00Z\"}");
    lines.add("{\"event_id\":\"s2\",\"user_id\":\"sentinel\",\"ts\":\"2025-01-23T00:00:01Z\"}");
    events = Files.write(tmp.resolve("events.jsonl"), lines, StandardCharsets.UTF_8);
    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.servers()))) {
      admin.createTopics(List.of(new NewTopic("events", 2, (short) 1),
              new NewTopic("stopped", 2, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stopServices() throws Exception {
    try {
      for (Process p : commands) {
        if (p.isAlive()) {
          p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
      }
      if (stateDir != null && Files.exists(stateDir.resolve("port"))) {
        cancelRunningJobs();
        Script stop = script("stop");
        assertThat(stop.describe(), stop.exit(), is(0));
      }
    } finally {
      if (broker != null) {
        broker.stop();
      }
    }
  }

  @Test
  void aCheckpointedStreamSurvivesALostTaskManagerAndPublishesTheBatchBytes() throws Exception {
    // The references: a batch run over the same events' file (partitions, counts, quarantine),
    // and a batch online load as of TO's end under the other name.
    Path batch = tmp.resolve("out-batch");
    Cli.batch(Cli.FLINK_LOCAL, spec, events, batch, "--from=" + FROM, "--to=" + TO)
        .assertExit(0);
    Cli.batch(Cli.FLINK_LOCAL, batchSpec, events, tmp.resolve("out-batch-online"),
        "--asOfDate=" + TO, "--onlineStore=" + STORE).assertExit(0);

    int cut = firstAtOrAfter(CUT);
    assertThat(cut, greaterThan(lines.size() / 3));
    send("events", 0, cut);

    // The shaded jar in a JVM of its own, as a user submits it to the cluster.
    Path out = tmp.resolve("out-stream");
    Path jar = shadedJar();
    List<String> command = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-jar", jar.toString(), "stream",
        "--spec=" + spec, "--source=kafka://" + broker.servers() + "/events", "--out=" + out,
        "--from=" + FROM, "--to=" + TO, "--onlineStore=" + STORE,
        // Neither partition may idle while the job restarts: both run past TO once all is sent.
        "--idleTimeout=10m",
        "--runnerConfig=" + Cli.runnerConfig("flink-cluster.args"),
        "--flinkMaster=localhost:" + port, "--filesToStage=" + jar,
        "--checkpointingInterval=2000", "--progress=false");
    Set<String> earlier = jobIds();
    streamLog = tmp.resolve("stream.log");
    long started = System.nanoTime();
    stream = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(streamLog.toFile()).start();
    commands.add(stream);

    String job = awaitValue("the stream's job RUNNING on the cluster", Duration.ofMinutes(3),
        () -> runningJob(earlier));
    // The first published dates, and a checkpoint completed after them: the state to restore
    // holds published dates, open dates, dedup keys and online states.
    Path manifest = Cli.partitionDir(out, FS, 1, "2025-01-17").resolve("_MANIFEST.json");
    await("2025-01-17 published and a checkpoint completed after it", Duration.ofMinutes(3),
        () -> Files.exists(manifest) && latestCompletedTrigger(job)
            > lastModified(manifest));
    JsonNode before = rest("/jobs/" + job + "/checkpoints");
    assertThat(before.toString(), before.path("latest").path("completed")
        .path("external_path").asText(), startsWith(stateDir.resolve("checkpoints").toUri()
        .toString().replace("file:///", "file:/")));
    assertThat(Files.exists(Cli.partitionDir(out, FS, 1, "2025-01-19")), is(false));
    System.out.printf("before the kill: %.1f s, %d checkpoints completed%n",
        (System.nanoTime() - started) / 1e9, before.path("counts").path("completed").asLong());

    Script kill = script("kill-taskmanager", "1");
    assertThat(kill.describe(), kill.exit(), is(0));
    long killed = System.nanoTime();
    Script add = script("add-taskmanager");
    assertThat(add.describe(), add.exit(), is(0));
    assertThat(add.describe(), add.output(), containsString("TaskManager 3"));

    // The job restarted (the cluster's restart strategy), restored a checkpoint and runs again
    // on every task, on the TaskManagers that are left.
    await("the job restarted from a checkpoint and RUNNING again", Duration.ofMinutes(3),
        () -> restarts(job) > 0 && rest("/jobs/" + job + "/checkpoints").path("counts")
            .path("restored").asLong() > 0 && allTasksRunning(job));
    JsonNode recovered = rest("/jobs/" + job + "/checkpoints");
    assertThat(recovered.toString(), recovered.path("latest").path("restored").path("id")
        .asLong(), greaterThanOrEqualTo(1L));
    JsonNode exceptions = rest("/jobs/" + job + "/exceptions").path("exceptionHistory")
        .path("entries");
    assertThat(exceptions.toString(), exceptions.size(), greaterThan(0));
    assertThat(taskManagerIds(), equalTo(Set.of("taskmanager-2", "taskmanager-3")));
    assertThat(taskManagersOf(job), not(hasItem("taskmanager-1")));
    System.out.printf("recovered %.1f s after the kill: %d restart(s), restored checkpoint %d%n",
        (System.nanoTime() - killed) / 1e9, restarts(job),
        recovered.path("latest").path("restored").path("id").asLong());

    send("events", cut, lines.size());
    assertThat("the stream did not end within 5 minutes:\n" + streamLog(),
        stream.waitFor(5, TimeUnit.MINUTES), is(true));
    assertThat(streamLog(), stream.exitValue(), is(0));
    assertThat(streamLog(), containsString("FeatureBeam stream: user_features v1"));
    System.out.printf("stream: %.1f s%n", (System.nanoTime() - started) / 1e9);
    // It stopped its job at the end.
    await("the job cancelled", Duration.ofMinutes(1),
        () -> rest("/jobs/" + job).path("state").asText().equals("CANCELED"));

    // Parquet files: the batch run's bytes; manifests equal apart from the lineage.
    SortedMap<String, String> fromBatch = Cli.only(Cli.snapshot(Cli.versionDir(batch, FS, 1)),
        Cli::isParquetPart);
    assertThat(fromBatch.keySet().stream().map(p -> p.substring(0, p.indexOf('/'))).distinct()
        .collect(Collectors.toList()),
        equalTo(DATES.stream().map(d -> "as_of_date=" + d).collect(Collectors.toList())));
    assertThat(Cli.only(Cli.snapshot(Cli.versionDir(out, FS, 1)), Cli::isParquetPart),
        equalTo(fromBatch));
    for (String date : DATES) {
      ObjectNode b = (ObjectNode) Cli.readJson(
          Cli.partitionDir(batch, FS, 1, date).resolve("_MANIFEST.json"));
      ObjectNode s = (ObjectNode) Cli.readJson(
          Cli.partitionDir(out, FS, 1, date).resolve("_MANIFEST.json"));
      b.remove("lineage");
      s.remove("lineage");
      assertThat(date, s, equalTo(b));
    }

    // Every event once: the same counts, the same bad records.
    Path batchRun = Cli.runDir(batch, FS, 1, FROM, TO);
    Path streamRun = Cli.runDir(out, FS, 1, FROM, TO);
    JsonNode bc = Cli.readJson(batchRun.resolve("report.json")).get("counts");
    JsonNode report = Cli.readJson(streamRun.resolve("report.json"));
    JsonNode sc = report.get("counts");
    assertThat(sc.get("read").asLong(), is((long) lines.size()));
    for (String c : List.of("read", "valid", "duplicates", "duplicates_exact",
        "duplicates_conflicting", "quarantined", "feature_rows")) {
      assertThat(c + " in " + sc, sc.get(c).asLong(), is(bc.get(c).asLong()));
    }
    assertThat(sc.get("late").asLong(), is(0L));
    assertThat(sc.get("out_of_range").asLong() + sc.get("in_flight").asLong(),
        is(bc.get("out_of_range").asLong()));
    assertThat(report.get("identity_holds").asBoolean(), is(true));
    assertThat(badRecords(streamRun), equalTo(badRecords(batchRun)));
    assertThat(badRecords(batchRun).isEmpty(), is(false));
    assertThat(Files.exists(Cli.versionDir(out, FS, 1).resolve("_staging")), is(false));

    // The online store: what the batch load serves, for every entity, at T and later.
    FeatureSpec streamed = SpecParser.parse(spec);
    FeatureSpec batched = SpecParser.parse(batchSpec);
    try (OnlineFeatures s = OnlineFeatures.open(streamed, STORE);
        OnlineFeatures b = OnlineFeatures.open(batched, STORE)) {
      List<String> ids = new ArrayList<>(users);
      assertThat(ids.size(), greaterThan(100));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
      List<String> wrong = mismatches(s, b, ids, T);
      while (!wrong.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(250);
        wrong = mismatches(s, b, ids, T);
      }
      assertThat(wrong, empty());
      for (long at : new long[] {T + 1, T + 5 * 3_600_000L + 17, T + 9 * 86_400_000L}) {
        assertThat(mismatches(s, b, ids, at), empty());
      }
    }
  }

  /**
   * A stream on the cluster whose command gets SIGTERM (a Ctrl-C does the same) before its last
   * date: the command cancels its job on the way out, so that no job is left writing the store
   * without it.
   */
  @Test
  void aStoppedCommandCancelsItsJobOnTheCluster() throws Exception {
    send("stopped", 0, firstAtOrAfter(CUT));
    Path jar = shadedJar();
    List<String> command = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-jar", jar.toString(), "stream",
        "--spec=" + spec, "--source=kafka://" + broker.servers() + "/stopped",
        "--out=" + tmp.resolve("out-stopped"), "--from=" + FROM, "--to=" + TO,
        "--idleTimeout=10m", "--runnerConfig=" + Cli.runnerConfig("flink-cluster.args"),
        "--flinkMaster=localhost:" + port, "--filesToStage=" + jar, "--progress=false");
    Set<String> earlier = jobIds();
    streamLog = tmp.resolve("stream-stopped.log");
    stream = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(streamLog.toFile()).start();
    commands.add(stream);
    String job = awaitValue("the stream's job RUNNING on the cluster", Duration.ofMinutes(3),
        () -> runningJob(earlier));
    await("2025-01-16 published", Duration.ofMinutes(2), () -> Files.exists(
        Cli.partitionDir(tmp.resolve("out-stopped"), FS, 1, FROM).resolve("_MANIFEST.json")));

    stream.destroy(); // SIGTERM
    assertThat("the command did not end within a minute of SIGTERM:\n" + streamLog(),
        stream.waitFor(1, TimeUnit.MINUTES), is(true));
    assertThat(streamLog(), containsString("cancelling the stream's job on the cluster"));
    await("the job cancelled", Duration.ofSeconds(30),
        () -> rest("/jobs/" + job).path("state").asText().equals("CANCELED"));
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

  private static List<String> mismatches(OnlineFeatures streamed, OnlineFeatures batch,
      List<String> ids, long at) {
    List<String> wrong = new ArrayList<>();
    List<FeatureRow> s = streamed.getAll(ids, at);
    List<FeatureRow> b = batch.getAll(ids, at);
    assertThat("every user has events in the batch load", b.stream().allMatch(FeatureRow::held),
        is(true));
    for (int i = 0; i < ids.size(); i++) {
      if (!s.get(i).values().equals(b.get(i).values())) {
        wrong.add(ids.get(i) + " at " + Instant.ofEpochMilli(at) + ": stream " + s.get(i).values()
            + " batch " + b.get(i).values());
      }
    }
    return wrong;
  }

  /** Reason and payload of each quarantined record, counted. */
  private static SortedMap<String, Integer> badRecords(Path runDir) throws IOException {
    SortedMap<String, Integer> out = new TreeMap<>();
    for (JsonNode q : Cli.readJsonLines(runDir.resolve("quarantine.jsonl"))) {
      out.merge(q.get("reason").asText() + " " + q.get("payload").asText(), 1, Integer::sum);
    }
    return out;
  }

  /** The index of the first line whose event time is at or after {@code instant}. */
  private static int firstAtOrAfter(String instant) {
    long at = Instant.parse(instant).toEpochMilli();
    int first = 0;
    while (first < lines.size() && !(eventTime(lines.get(first)) != null
        && eventTime(lines.get(first)) >= at)) {
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
      return ts.isNumber() ? ts.asLong() : OffsetDateTime.parse(ts.asText()).toInstant()
          .toEpochMilli();
    } catch (Exception e) {
      return null; // malformed, or a time the spec quarantines
    }
  }

  // ------------------------------------------------------------------ the cluster's REST API

  /** The ids of every job the cluster lists, in any state. */
  private static Set<String> jobIds() throws Exception {
    Set<String> ids = new TreeSet<>();
    rest("/jobs/overview").path("jobs").forEach(j -> ids.add(j.path("jid").asText()));
    return ids;
  }

  /** The id of a job not in {@code earlier} that runs every task, or null while there is none. */
  private static String runningJob(Set<String> earlier) throws Exception {
    assertThat(streamLog(), stream.isAlive(), is(true));
    for (JsonNode job : rest("/jobs/overview").path("jobs")) {
      if (!earlier.contains(job.path("jid").asText())
          && job.path("state").asText().equals("RUNNING")
          && job.path("tasks").path("running").asInt() == job.path("tasks").path("total").asInt()) {
        return job.path("jid").asText();
      }
    }
    return null;
  }

  private static boolean allTasksRunning(String job) throws Exception {
    JsonNode j = rest("/jobs/" + job);
    if (!j.path("state").asText().equals("RUNNING")) {
      return false;
    }
    for (JsonNode vertex : j.path("vertices")) {
      if (!vertex.path("status").asText().equals("RUNNING")) {
        return false;
      }
    }
    return true;
  }

  /** The job's numRestarts metric (0 when the JobManager does not report it yet). */
  private static long restarts(String job) throws Exception {
    for (JsonNode m : rest("/jobs/" + job + "/metrics?get=numRestarts")) {
      if (m.path("id").asText().equals("numRestarts")) {
        return m.path("value").asLong();
      }
    }
    return 0;
  }

  /** When the latest completed checkpoint was triggered (epoch ms), 0 before the first. */
  private static long latestCompletedTrigger(String job) throws Exception {
    JsonNode completed = rest("/jobs/" + job + "/checkpoints").path("latest").path("completed");
    return completed.isObject() ? completed.path("trigger_timestamp").asLong() : 0;
  }

  private static Set<String> taskManagerIds() throws Exception {
    Set<String> ids = new TreeSet<>();
    rest("/taskmanagers").path("taskmanagers").forEach(tm -> ids.add(tm.path("id").asText()));
    return ids;
  }

  /** The TaskManagers that run a subtask of the job now. */
  private static Set<String> taskManagersOf(String job) throws Exception {
    Set<String> ids = new TreeSet<>();
    for (JsonNode vertex : rest("/jobs/" + job).path("vertices")) {
      JsonNode tms = rest("/jobs/" + job + "/vertices/" + vertex.path("id").asText()
          + "/taskmanagers");
      tms.path("taskmanagers").forEach(tm -> ids.add(tm.path("taskmanager-id").asText()));
    }
    return ids;
  }

  private static void cancelRunningJobs() {
    try {
      for (JsonNode job : rest("/jobs/overview").path("jobs")) {
        String state = job.path("state").asText();
        if (!Set.of("FINISHED", "CANCELED", "FAILED").contains(state)) {
          HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jobs/"
                  + job.path("jid").asText() + "?mode=cancel"))
              .timeout(Duration.ofSeconds(10))
              .method("PATCH", HttpRequest.BodyPublishers.noBody()).build(),
              HttpResponse.BodyHandlers.discarding());
        }
      }
    } catch (Exception | AssertionError e) {
      // the cluster's stop ends every job anyway
    }
  }

  private static JsonNode rest(String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).GET().build();
    HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(path + ": " + response.body(), response.statusCode(), is(200));
    return JSON.readTree(response.body());
  }

  // ------------------------------------------------------------------ polling and processes

  interface Probe<T> {
    T get() throws Exception;
  }

  /** Polls {@code probe} until it gives a value, failing with the stream's output after the limit. */
  private static <T> T awaitValue(String what, Duration limit, Probe<T> probe) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      T value = probe.get();
      if (value != null) {
        return value;
      }
      assertThat(what + ": not within " + limit + "\n--- the stream's output:\n" + streamLog(),
          System.nanoTime() < deadline, is(true));
      Thread.sleep(250);
    }
  }

  private static void await(String what, Duration limit, Probe<Boolean> condition)
      throws Exception {
    awaitValue(what, limit, () -> condition.get() ? Boolean.TRUE : null);
  }

  private static long lastModified(Path file) {
    try {
      return Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
  }

  private static String streamLog() {
    try {
      return streamLog == null || !Files.exists(streamLog) ? "" : Files.readString(streamLog);
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** The repository's {@code pipelines/target/featurebeam.jar}, from the working folder up. */
  private static Path shadedJar() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("pipelines/target/featurebeam.jar");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no pipelines/target/featurebeam.jar above "
        + Path.of("").toAbsolutePath() + "; build it with mvn -B -DskipTests install");
  }

  /** What one call of flink-cluster.sh did. */
  record Script(int exit, String output, List<String> args) {
    String describe() {
      return "flink-cluster.sh " + String.join(" ", args) + "\n  exit " + exit + "\n--- output:\n"
          + output;
    }
  }

  /** Runs runners-config/flink-cluster.sh with this class's state folder. */
  private static Script script(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Cli.runnerConfig("flink-cluster.sh").toString());
    command.addAll(List.of(args));
    Path log = Files.createTempFile(tmp, "flink-cluster-", ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("FLINK_CLUSTER_DIR", stateDir.toString());
    long began = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(String.join(" ", command) + " took more than " + SCRIPT_TIMEOUT
          + ":\n" + Files.readString(log));
    }
    // Goes to target/failsafe-reports/*-output.txt: where the test's time goes.
    System.out.printf("flink-cluster.sh %s: exit %d in %.1f s%n", String.join(" ", args),
        p.exitValue(), (System.nanoTime() - began) / 1e9);
    return new Script(p.exitValue(), Files.readString(log), List.of(args));
  }
}
