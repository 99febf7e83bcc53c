package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar submitted to a real Flink session cluster: a JobManager and two TaskManagers, each
 * its own JVM, started and stopped through runners-config/flink-cluster.sh in a state folder and
 * on a port of the test's own. The job finishes on the cluster, runs on both TaskManagers, and
 * publishes partitions byte-identical to a DirectRunner run of the same input.
 *
 * <p>Slow (a cluster start, a 230 MB jar upload): only {@code -Pcluster} runs it, through failsafe.
 */
class FlinkClusterIT {
  private static final String FS = "user_features";
  private static final String FROM = "2025-01-10";
  private static final String TO = "2025-01-14";
  private static final List<String> DATES =
      List.of("2025-01-10", "2025-01-11", "2025-01-12", "2025-01-13", "2025-01-14");
  /** A cold start resolves the cluster's jars through Maven first. */
  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(10);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path tmp;
  private static Path stateDir;
  private static int port;

  @BeforeAll
  static void startCluster() throws Exception {
    stateDir = tmp.resolve("flink-state");
    port = freePort();
    Script start = script("start", "--taskmanagers=2", "--port=" + port, "--slots=2");
    assertThat(start.describe(), start.exit(), is(0));
    assertThat(start.describe(), start.output(), containsString("http://127.0.0.1:" + port));
    assertThat(taskManagerIds(), equalTo(Set.of("taskmanager-1", "taskmanager-2")));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    Script stop = script("stop");
    assertThat(stop.describe(), stop.exit(), is(0));
    assertThat(Files.exists(stateDir.resolve("jobmanager.pid")), is(false));
    Script status = script("status");
    assertThat(status.describe(), status.exit(), is(3));
  }

  @Test
  void theShadedJarOnTheClusterPublishesWhatTheDirectRunnerPublishes() throws Exception {
    // ~3000 events of 200 users over 20 days, with duplicates and malformed lines.
    Path events = Cli.generate(tmp.resolve("events.csv"), Map.of(
        "seed", "7", "events", "3000", "users", "200", "days", "20", "startDate", "2025-01-01",
        "duplicateFraction", "0.02", "malformedFraction", "0.01"));
    Path spec = Cli.fixture("user_features.yaml");
    Path direct = tmp.resolve("out-direct");
    Path cluster = tmp.resolve("out-cluster");

    Cli.batch(Cli.DIRECT, spec, events, direct, "--from=" + FROM, "--to=" + TO).assertExit(0);

    // The shaded jar in a JVM of its own, as a user runs it; the options file as the README
    // gives it, with this cluster's port and the jar's absolute path.
    Path jar = shadedJar();
    List<String> command = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-jar", jar.toString(), "batch",
        "--spec=" + spec, "--source=file:" + events, "--out=" + cluster,
        "--from=" + FROM, "--to=" + TO,
        "--runnerConfig=" + Cli.runnerConfig("flink-cluster.args"),
        "--flinkMaster=localhost:" + port, "--filesToStage=" + jar, "--progress=false");
    Run run = run("featurebeam.jar batch", command, RUN_TIMEOUT);
    assertThat(run.describe(), run.exit(), is(0));
    assertThat(run.describe(), run.output(), containsString("on FlinkRunner"));

    // The cluster ran it, to the end, and on both TaskManagers (its shuffles crossed JVMs).
    JsonNode jobs = rest("/jobs/overview").path("jobs");
    assertThat(jobs.toString(), jobs.size(), is(1));
    JsonNode job = jobs.get(0);
    assertThat(job.toString(), job.path("state").asText(), is("FINISHED"));
    assertThat(taskManagersOf(job.path("jid").asText()),
        equalTo(Set.of("taskmanager-1", "taskmanager-2")));

    // Same partitions, same bytes: Parquet files and manifests.
    SortedMap<String, String> fromDirect = partitions(direct);
    SortedMap<String, String> fromCluster = partitions(cluster);
    assertThat(fromDirect.keySet().stream().filter(p -> !p.contains("/")).collect(Collectors.toList()),
        equalTo(DATES.stream().map(d -> "as_of_date=" + d).collect(Collectors.toList())));
    assertThat(fromDirect.keySet().stream().filter(Cli::isParquetPart).count(), not(0L));
    assertThat(fromCluster, equalTo(fromDirect));

    // The counts reach the report from the cluster's accumulators; the quarantine is the same.
    Path directRun = Cli.runDir(direct, FS, 1, FROM, TO);
    Path clusterRun = Cli.runDir(cluster, FS, 1, FROM, TO);
    assertThat(Cli.readJson(clusterRun.resolve("report.json")).path("counts"),
        equalTo(Cli.readJson(directRun.resolve("report.json")).path("counts")));
    assertThat(Cli.readJson(clusterRun.resolve("report.json")).path("counts").path("read").asLong(),
        is(3060L));
    assertThat(Files.readString(clusterRun.resolve("quarantine.jsonl")),
        equalTo(Files.readString(directRun.resolve("quarantine.jsonl"))));
  }

  /** Every partition folder's files ({@code as_of_date=D/...}) by relative path, with their sha256. */
  private static SortedMap<String, String> partitions(Path out) throws IOException {
    return Cli.only(Cli.snapshot(Cli.versionDir(out, FS, 1)), p -> p.startsWith("as_of_date="));
  }

  /**
   * The repository's {@code pipelines/target/featurebeam.jar}, found from the working directory
   * upwards: in the reactor the pipelines module packages it before this module's tests run.
   */
  private static Path shadedJar() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("pipelines/target/featurebeam.jar");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no pipelines/target/featurebeam.jar above "
        + Path.of("").toAbsolutePath() + "; build it with mvn -B -DskipTests package -pl pipelines -am");
  }

  private static Set<String> taskManagerIds() throws Exception {
    Set<String> ids = new TreeSet<>();
    rest("/taskmanagers").path("taskmanagers").forEach(tm -> ids.add(tm.path("id").asText()));
    return ids;
  }

  /** The TaskManagers that ran any subtask of the job. */
  private static Set<String> taskManagersOf(String jobId) throws Exception {
    Set<String> ids = new TreeSet<>();
    for (JsonNode vertex : rest("/jobs/" + jobId).path("vertices")) {
      JsonNode tms = rest("/jobs/" + jobId + "/vertices/" + vertex.path("id").asText() + "/taskmanagers");
      tms.path("taskmanagers").forEach(tm -> ids.add(tm.path("taskmanager-id").asText()));
    }
    return ids;
  }

  private static JsonNode rest(String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).GET().build();
    HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(path + ": " + response.body(), response.statusCode(), is(200));
    return JSON.readTree(response.body());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** What one child process did: its exit status and its output, both streams merged. */
  record Run(int exit, String output, List<String> command) {
    String describe() {
      return String.join(" ", command) + "\n  exit " + exit + "\n--- output:\n" + output;
    }
  }

  /** What one call of the script did. */
  record Script(int exit, String output, List<String> args) {
    String describe() {
      return "flink-cluster.sh " + String.join(" ", args) + "\n  exit " + exit + "\n--- output:\n" + output;
    }
  }

  /** Runs runners-config/flink-cluster.sh with this class's state folder. */
  private static Script script(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Cli.runnerConfig("flink-cluster.sh").toString());
    command.addAll(List.of(args));
    Run r = run("flink-cluster.sh " + String.join(" ", args), command, SCRIPT_TIMEOUT);
    return new Script(r.exit(), r.output(), List.of(args));
  }

  private static Run run(String label, List<String> command, Duration timeout) throws Exception {
    Path log = Files.createTempFile(tmp, "run-", ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("FLINK_CLUSTER_DIR", stateDir.toString());
    long started = System.nanoTime();
    Process p = pb.start();
    if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(String.join(" ", command) + " took more than " + timeout + ":\n"
          + Files.readString(log));
    }
    // Goes to target/failsafe-reports/*-output.txt: where the test's time goes.
    System.out.printf("%s: exit %d in %.1f s%n", label, p.exitValue(), (System.nanoTime() - started) / 1e9);
    return new Run(p.exitValue(), Files.readString(log), command);
  }
}
