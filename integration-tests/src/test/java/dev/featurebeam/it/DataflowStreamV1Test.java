package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runner v1 splits the stream's Kafka source while it translates the job, on the submitting
 * machine, so its streaming job's specification needs a broker to list the topic's partitions:
 * with a local one (loopback only), the shaded jar writes it with default dataflow.args, and its
 * steps are Dataflow's streaming read of KafkaIO's reader and every stateful step of the stream.
 */
class DataflowStreamV1Test {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  private static KafkaLocalBroker broker;

  @BeforeAll
  static void startBroker() throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(DataflowJarTest.jar()), "no jar built");
    broker = KafkaLocalBroker.start(tmp.resolve("kafka-state"));
    Cli.run("generate", "--out=kafka://" + broker.servers() + "/events", "--events=500",
        "--partitions=3").assertExit(0);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.stop();
    }
  }

  @Test
  void theStreamTranslatesToAStreamingJobOnRunnerV1(@TempDir Path dir) throws Exception {
    List<String> args = new ArrayList<>(List.of("stream", "--spec=examples/stream_features.yaml",
        "--source=kafka://" + broker.servers() + "/events", "--out=" + dir.resolve("out"),
        "--from=2025-02-01", "--to=2025-03-01",
        "--onlineStore=redis://redis.example.invalid:6379/0"));
    args.addAll(DataflowJarTest.offline(dir, "stream.json"));
    DataflowJarTest.Run run = DataflowJarTest.runJar(dir, args.toArray(new String[0]));
    assertThat(run.err(), run.exit(), is(0));
    JsonNode job = JSON.readTree(dir.resolve("stream.json").toFile());
    assertThat(job.get("type").asText(), is("JOB_TYPE_STREAMING"));
    List<String> experiments = new ArrayList<>();
    job.get("environment").get("experiments").forEach(e -> experiments.add(e.asText()));
    assertThat(experiments, not(hasItem("use_runner_v2")));
    List<String> steps = new ArrayList<>();
    job.get("steps").forEach(s -> steps.add(s.get("properties").get("user_name").get("value")
        .asText()));
    for (String step : List.of(
        "ReadKafka/ReadTopic/KafkaIO.Read.ReadFromKafkaViaUnbounded/Read(KafkaUnboundedSource)/"
            + "DataflowRunner.StreamingUnboundedRead.ReadWithIds",
        "QuarantineLate/CloseDates", "BuildFeatures/Deduplicate/DedupByState",
        "BuildFeatures/Features/Tile/AggregateDay", "BuildFeatures/Features/Roll/ComposeWindows",
        "OfflineStore/WriteStagedFiles/Clock/Tick", "OfflineStore/WriteStagedFiles/WriteShardFile",
        "OfflineStore/JudgePartitions/Judge", "OfflineStore/PublishPartitions/SwapIn",
        "RecordOutcomes/WriteEach", "OnlineStore/UpdateStates", "Quarantine/WriteBundleRuns",
        "Counts/SumInState")) {
      assertThat(steps, hasItem(startsWith(step)));
    }
    assertThat(Files.exists(dir.resolve("out")), is(false));
  }
}
