package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.annotation.Nullable;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory;
import org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch and the stream of the example specs, built by the command line with
 * runners-config/dataflow.args, translate to Dataflow jobs without credentials or a network: the
 * runner writes the job's specification ({@code --templateLocation}) with a credential factory and
 * a path validator that do nothing and a stager that uploads nothing ({@link NoStager}), while
 * {@link NoNetwork} refuses, at once, anything that would resolve or reach a host. The job's steps
 * (runner v1: the specification's {@code steps}; runner v2: the pipeline proto the runner stages)
 * are those of the graph, every stateful step passed the runner's own checks, and no Flink
 * setting reaches the job.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DataflowTranslationTest {
  /** What dataflow.args takes from the environment. */
  static final Map<String, String> ENV = Map.of("GOOGLE_CLOUD_PROJECT", "featurebeam-offline",
      "DATAFLOW_REGION", "europe-west1",
      "DATAFLOW_TEMP_LOCATION", "gs://featurebeam-no-bucket/dataflow");
  static final Path EXAMPLES = examples();
  static final ObjectMapper JSON = new ObjectMapper();
  static final String V2 = "--experiments=use_deprecated_read,use_runner_v2";

  /** The steps of the batch, from the source to the sinks, by the names the graph gives them. */
  static final String[] BATCH_STEPS = {
      "ReadFiles/Match", "ReadFiles/ReadRecords",
      "BuildFeatures/Validate/ParseAndValidate",
      "BuildFeatures/Deduplicate/DedupByGrouping/KeepFirstCopies",
      "BuildFeatures/KeepRange/DropOutOfRange",
      "BuildFeatures/Features/TileInBundles/ToTiles",
      "BuildFeatures/Features/Roll/ComposeWindows",
      "OfflineStore/WriteStagedFiles/WriteShardFile",
      "OfflineStore/JudgePartitions/Judge",
      "OfflineStore/PublishPartitions/SwapIn",
      "OfflineStore/RemoveStaging/DeleteStagedPartitions",
      "RecordOutcomes/Write",
      "OnlineStore/WriteStates",
      "Quarantine/MergeIntoFile"};

  /** The stream's: Kafka, late records, per-key state and timers, the sinks and the counts. */
  static final String[] STREAM_STEPS = {
      "ReadKafka/ReadTopic/KafkaIO.Read.ReadFromKafkaViaUnbounded/Read(KafkaUnboundedSource)",
      "ReadKafka/ToRawRecords",
      "QuarantineLate/CloseDates",
      "BuildFeatures/Validate/ParseAndValidate",
      "BuildFeatures/Deduplicate/DedupByState",
      "BuildFeatures/KeepRange/DropOutOfRange",
      "BuildFeatures/Features/Tile/AggregateDay",
      "BuildFeatures/Features/Roll/ComposeWindows",
      "OfflineStore/WriteStagedFiles/Clock/Tick",
      "OfflineStore/WriteStagedFiles/WriteShardFile",
      "OfflineStore/JudgePartitions",
      "OfflineStore/PublishPartitions",
      "RecordOutcomes/WriteEach",
      "OnlineStore/UpdateStates",
      "Quarantine/WriteBundleRuns",
      "Counts/SumInState"};

  @TempDir Path dir;

  @BeforeEach
  void clearStaged() {
    NoStager.STAGED.clear();
  }

  /** examples/ at the repository root, found from wherever the tests run. */
  static Path examples() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("examples/user_features.yaml"))) {
        return p.resolve("examples");
      }
    }
    throw new IllegalStateException("examples/ not found above " + Path.of("").toAbsolutePath());
  }

  /** One command's outcome under {@link NoNetwork}, and the job it wrote, if any. */
  record Translation(CliRun run, List<String> attempts, @Nullable JsonNode job,
      @Nullable RunnerApi.Pipeline proto) {
    JsonNode options() {
      return job.get("environment").get("sdkPipelineOptions").get("options");
    }

    List<String> experiments() {
      List<String> out = new ArrayList<>();
      job.get("environment").get("experiments").forEach(e -> out.add(e.asText()));
      return out;
    }

    /** Runner v1: the user name of each step of the job's specification. */
    List<String> steps() {
      List<String> names = new ArrayList<>();
      for (JsonNode step : job.get("steps")) {
        names.add(step.get("properties").get("user_name").get("value").asText());
      }
      return names;
    }

    /** The unique name of every transform of the pipeline proto the runner staged. */
    List<String> transforms() {
      List<String> names = new ArrayList<>();
      proto.getComponents().getTransformsMap().values()
          .forEach(t -> names.add(t.getUniqueName()));
      return names;
    }
  }

  /**
   * Runs {@code featurebeam COMMAND own... --runnerConfig=runners-config/dataflow.args} with the
   * placeholders of {@link #ENV} for its variables, a stand-in jar to stage, and the options that
   * keep the runner away from Google Cloud.
   */
  Translation translate(String command, String... own) throws IOException {
    Path jar = Files.writeString(dir.resolve("featurebeam.jar"), "a stand-in for the shaded jar");
    Path job = dir.resolve("job.json");
    List<String> args = new ArrayList<>(List.of(own));
    args.add("--runnerConfig=" + EXAMPLES.resolveSibling("runners-config/dataflow.args"));
    args.add("--filesToStage=" + jar);
    args.add("--templateLocation=" + job);
    args.add("--credentialFactoryClass=" + NoopCredentialFactory.class.getName());
    args.add("--pathValidatorClass=" + NoopPathValidator.class.getName());
    args.add("--stagerClass=" + NoStager.class.getName());
    // What the command line does with the file, given these variables in the environment.
    List<String> line = new ArrayList<>(List.of(command));
    line.addAll(List.of(RunnerArgs.merge(args.toArray(new String[0]), ENV::get)));
    CliRun run;
    List<String> attempts;
    try (NoNetwork guard = NoNetwork.install()) {
      run = CliRun.of(line.toArray(new String[0]));
      attempts = guard.attempts();
    }
    byte[] proto = NoStager.STAGED.get("pipeline.pb");
    return new Translation(run, attempts,
        Files.exists(job) ? JSON.readTree(job.toFile()) : null,
        proto == null ? null : RunnerApi.Pipeline.parseFrom(proto));
  }

  Translation batch(String... more) throws IOException {
    List<String> args = new ArrayList<>(List.of(
        "--spec=" + EXAMPLES.resolve("user_features.yaml"),
        "--source=file:" + EXAMPLES.resolve("data/events.csv"),
        "--out=" + dir.resolve("out"), "--from=2025-02-01", "--to=2025-02-07",
        "--onlineStore=redis://redis.example.invalid:6379/0"));
    args.addAll(List.of(more));
    return translate("batch", args.toArray(new String[0]));
  }

  Translation stream(String... more) throws IOException {
    List<String> args = new ArrayList<>(List.of(
        "--spec=" + EXAMPLES.resolve("stream_features.yaml"),
        "--source=kafka://kafka.example.invalid:9092/events",
        "--out=" + dir.resolve("out"), "--from=2025-02-01", "--to=2025-02-07",
        "--onlineStore=redis://redis.example.invalid:6379/0"));
    args.addAll(List.of(more));
    return translate("stream", args.toArray(new String[0]));
  }

  static void assertWritten(Translation t) {
    assertThat(t.run().err(), t.run().exit(), is(FeatureBeamCli.OK));
    assertThat(t.attempts(), empty());
    assertThat(t.run().out(), startsWith("wrote the Dataflow job's specification to "));
    assertThat(t.job().get("environment").get("sdkPipelineOptions").get("options")
        .get("project").asText(), is("featurebeam-offline"));
  }

  /** Each name is a step's, or the prefix of one's. */
  static void assertHasSteps(List<String> names, String... expected) {
    for (String e : expected) {
      assertThat(names, hasItem(startsWith(e)));
    }
  }

  /** None of the settings the stream gives Flink (or the DirectRunner) reaches a Dataflow job. */
  static void assertNoFlinkSettings(Translation t) {
    JsonNode o = t.options();
    assertThat(o.toString(), o.path("objectReuse").asBoolean(false), is(false));
    assertThat(o.path("finishBundleBeforeCheckpointing").asBoolean(false), is(false));
    assertThat(o.path("fasterCopy").asBoolean(false), is(false));
    assertThat(o.path("attachedMode").asBoolean(true), is(true));
    assertThat(o.path("blockOnRun").asBoolean(true), is(true));
    assertThat(o.path("checkpointingInterval").asLong(-1) > 0, is(false));
    assertThat(o.has("flinkMaster"), is(false));
  }

  @Test
  void theBatchTranslatesToABatchJobOnRunnerV1() throws IOException {
    Translation t = batch();
    assertWritten(t);
    assertThat(t.job().get("type").asText(), is("JOB_TYPE_BATCH"));
    assertThat(t.experiments(), not(hasItem("use_runner_v2")));
    assertHasSteps(t.steps(), BATCH_STEPS);
    assertNoFlinkSettings(t);
    // The store, its lock and staging are not touched: only the job's specification is written.
    assertThat(Files.exists(dir.resolve("out")), is(false));
    // The job stages the jar it was given, and the pipeline's proto.
    assertThat(t.options().get("filesToStage").toString(), containsString("featurebeam.jar"));
  }

  @Test
  void theBatchTranslatesToABatchJobOnRunnerV2() throws IOException {
    Translation t = batch(V2);
    assertWritten(t);
    assertThat(t.job().get("type").asText(), is("JOB_TYPE_BATCH"));
    assertThat(t.experiments(), hasItems("use_runner_v2", "beam_fn_api"));
    assertHasSteps(t.transforms(), BATCH_STEPS);
  }

  @Test
  void theStreamTranslatesToAStreamingJobOnRunnerV2WithoutAskingTheBroker() throws IOException {
    Translation t = stream(V2);
    assertWritten(t);
    assertThat(t.job().get("type").asText(), is("JOB_TYPE_STREAMING"));
    // Runner v2 streams run on Streaming Engine; the runner turns it on by itself.
    assertThat(t.experiments(), hasItems("use_runner_v2", "enable_streaming_engine"));
    assertHasSteps(t.transforms(), STREAM_STEPS);
    // The Kafka read is KafkaIO's UnboundedSource reader (use_deprecated_read), run inside Beam's
    // splittable wrapper on the workers: no partition is listed when the job is submitted.
    assertThat(t.transforms(), hasItem(containsString("ParDo(UnboundedSourceAsSDFWrapper)")));
    assertNoFlinkSettings(t);
    assertThat(Files.exists(dir.resolve("out")), is(false));
  }

  @Test
  void onRunnerV1TheStreamsSubmissionListsTheTopicsPartitionsFromTheBroker() throws IOException {
    // Runner v1 splits the Kafka source when it translates the job, on this machine: without a
    // broker to ask, the command fails at once (under NoNetwork; a real unreachable broker would
    // make it wait for the consumer's timeout instead).
    Translation t = stream("--verbose");
    assertThat(t.run().err(), t.run().exit(), is(FeatureBeamCli.FAILED));
    assertThat(t.attempts(), hasItem(startsWith("kafka.example.invalid")));
    assertThat(t.run().err(), containsString("KafkaUnboundedSource.split"));
  }

  @Test
  void aStreamOnDataflowWithoutTheDeprecatedReadIsRefused() throws IOException {
    Translation t = stream("--experiments=use_runner_v2");
    assertThat(t.run().exit(), is(FeatureBeamCli.USAGE));
    assertThat(t.run().err(), containsString(
        "KafkaSource on Dataflow needs --experiments=use_deprecated_read"));
    assertThat(t.attempts(), empty());
  }

  @Test
  void aJobThatWouldRunOnDataflowIsRefusedBeforeAnyWork() throws IOException {
    String spec = "--spec=" + EXAMPLES.resolve("user_features.yaml");
    String source = "--source=file:" + EXAMPLES.resolve("data/events.csv");
    Map<String, List<String>> commands = Map.of(
        "batch", List.of(spec, source, "--out=" + dir.resolve("out"), "--asOfDate=2025-02-01"),
        "stream", List.of("--spec=" + EXAMPLES.resolve("stream_features.yaml"),
            "--source=kafka://kafka.example.invalid:9092/events", "--out=" + dir.resolve("out"),
            "--from=2025-02-01"),
        "training-set", List.of(spec, source, "--spine=" + dir.resolve("spine.csv"),
            "--out=" + dir.resolve("train.parquet")));
    for (Map.Entry<String, List<String>> c : commands.entrySet()) {
      List<String> args = new ArrayList<>(List.of(c.getKey()));
      args.addAll(c.getValue());
      args.addAll(List.of("--runner=DataflowRunner", "--project=p", "--region=europe-west1",
          "--tempLocation=gs://b/t"));
      CliRun run;
      try (NoNetwork guard = NoNetwork.install()) {
        run = CliRun.of(args.toArray(new String[0]));
        assertThat(guard.attempts(), empty());
      }
      assertThat(c.getKey() + ": " + run.err(), run.exit(), is(FeatureBeamCli.USAGE));
      assertThat(run.err(), containsString("featurebeam: " + c.getKey()
          + ": --runner=DataflowRunner: " + c.getKey() + " writes the offline store"));
      assertThat(run.err(), containsString("needs the store on gs:// through Beam's FileSystems"));
    }
    assertThat(Files.exists(dir.resolve("out")), is(false));
  }
}
