package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar itself, not the test class path: in a child JVM, {@code batch} and {@code stream}
 * with runners-config/dataflow.args (its variables from the child's environment) and {@code
 * --templateLocation} write Dataflow job specifications, with the runner's services and options
 * as the jar merged them. Only {@link NoStager} is added to the jar's class path; the Google Cloud
 * names are placeholders and the hosts {@code .invalid}, so nothing can be reached. Needs the jar
 * built ({@code mvn package}; the reactor builds it before this module's tests).
 */
class DataflowJarTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 180;

  record Run(int exit, String out, String err) {}

  static Path jar() {
    return CommandLineTest.repoFile("pipelines/target/featurebeam.jar");
  }

  /** {@code java -cp featurebeam.jar:<this module's test classes> FeatureBeamCli ARGS}. */
  static Run runJar(Path dir, String... args) throws Exception {
    Path classes = Path.of(NoStager.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-cp", jar() + File.pathSeparator + classes, "dev.featurebeam.pipelines.FeatureBeamCli"));
    command.addAll(List.of(args));
    Path out = dir.resolve("child.out");
    Path err = dir.resolve("child.err");
    ProcessBuilder pb = new ProcessBuilder(command).directory(CommandLineTest.repoFile("").toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().putAll(Map.of("GOOGLE_CLOUD_PROJECT", "featurebeam-offline",
        "DATAFLOW_REGION", "europe-west1",
        "DATAFLOW_TEMP_LOCATION", "gs://featurebeam-no-bucket/dataflow"));
    Process p = pb.start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the jar did not finish within " + TIMEOUT_SECONDS + " s: "
          + String.join(" ", args) + "\n" + Files.readString(err, StandardCharsets.UTF_8));
    }
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  static List<String> offline(Path dir, String name) throws IOException {
    Path stand = Files.writeString(dir.resolve("featurebeam.jar"), "a stand-in for the jar");
    return List.of("--runnerConfig=runners-config/dataflow.args", "--filesToStage=" + stand,
        "--templateLocation=" + dir.resolve(name),
        "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
        "--pathValidatorClass=org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator",
        "--stagerClass=" + NoStager.class.getName());
  }

  @Test
  void theJarWritesTheBatchsAndTheStreamsDataflowJobs(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(jar()), "no jar built");
    List<String> batch = new ArrayList<>(List.of("batch", "--spec=examples/user_features.yaml",
        "--source=file:" + CommandLineTest.repoFile("examples/data/events.csv"), "--out=" + dir.resolve("out"),
        "--from=2025-02-01", "--to=2025-03-01"));
    batch.addAll(offline(dir, "batch.json"));
    Run b = runJar(dir, batch.toArray(new String[0]));
    assertThat(b.err(), b.exit(), is(0));
    assertThat(b.out(), containsString("wrote the Dataflow job's specification to "));
    JsonNode batchJob = JSON.readTree(dir.resolve("batch.json").toFile());
    assertThat(batchJob.get("type").asText(), is("JOB_TYPE_BATCH"));
    assertThat(batchJob.get("steps").size(), greaterThan(50));
    // dataflow.args's variables came from the child's environment.
    JsonNode options = batchJob.get("environment").get("sdkPipelineOptions").get("options");
    assertThat(options.get("project").asText(), is("featurebeam-offline"));
    assertThat(options.get("stagingLocation").asText(),
        is("gs://featurebeam-no-bucket/dataflow/staging"));

    List<String> stream = new ArrayList<>(List.of("stream", "--spec=examples/stream_features.yaml",
        "--source=kafka://kafka.example.invalid:9092/events", "--out=" + dir.resolve("out"),
        "--from=2025-02-01", "--to=2025-03-01", "--onlineStore=redis://redis.example.invalid:6379/0",
        "--experiments=use_deprecated_read,use_runner_v2"));
    stream.addAll(offline(dir, "stream.json"));
    Run s = runJar(dir, stream.toArray(new String[0]));
    assertThat(s.err(), s.exit(), is(0));
    JsonNode streamJob = JSON.readTree(dir.resolve("stream.json").toFile());
    assertThat(streamJob.get("type").asText(), is("JOB_TYPE_STREAMING"));
    List<String> experiments = new ArrayList<>();
    streamJob.get("environment").get("experiments").forEach(e -> experiments.add(e.asText()));
    assertThat(experiments, hasItem("use_runner_v2"));
    assertThat(Files.exists(dir.resolve("out")), is(false));
  }

  @Test
  void anUnsetVariableOfTheRunnerConfigStopsTheJarNamingIt(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(jar()), "no jar built");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-jar",
        jar().toString(), "batch", "--spec=examples/user_features.yaml",
        "--source=file:examples/data/events.csv", "--out=" + dir.resolve("out"),
        "--asOfDate=2025-02-01", "--runnerConfig=runners-config/dataflow.args"));
    ProcessBuilder pb = new ProcessBuilder(command).directory(CommandLineTest.repoFile("").toFile())
        .redirectErrorStream(true);
    pb.environment().remove("GOOGLE_CLOUD_PROJECT");
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), is(true));
    assertThat(output, p.exitValue(), is(2));
    assertThat(output, containsString("--project=${GOOGLE_CLOUD_PROJECT} needs the environment"
        + " variable GOOGLE_CLOUD_PROJECT, which is not set"));
  }
}
