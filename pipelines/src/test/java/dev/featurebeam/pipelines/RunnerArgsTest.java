package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How --runnerConfig files merge under the command line, and the default runner. */
class RunnerArgsTest {

  @Test
  void fileOptionsFillInWhatTheCommandLineLeavesOut(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("r.args");
    Files.writeString(config, "# a comment\n--runner=FlinkRunner\n\n--parallelism=2\n  --fasterCopy=true  \n");
    String[] merged = RunnerArgs.merge(
        new String[] {"--spec=s.yaml", "--parallelism=4", "--runnerConfig=" + config});
    // --parallelism from the command line wins; the file adds the rest, in its order.
    assertThat(List.of(merged), contains("--spec=s.yaml", "--parallelism=4",
        "--runnerConfig=" + config, "--runner=FlinkRunner", "--fasterCopy=true"));
  }

  @Test
  void withoutARunnerTheEmbeddedFlinkRunnerIsTheDefault() {
    assertThat(List.of(RunnerArgs.merge(new String[] {"--spec=s.yaml"})),
        contains("--spec=s.yaml", "--runner=FlinkRunner", "--fasterCopy=true"));
    assertThat(List.of(RunnerArgs.merge(new String[] {"--runner=DirectRunner"})),
        contains("--runner=DirectRunner"));
    // Flink named on the command line gets fasterCopy too, unless it is given.
    assertThat(List.of(RunnerArgs.merge(new String[] {"--runner=FlinkRunner"})),
        contains("--runner=FlinkRunner", "--fasterCopy=true"));
    assertThat(List.of(RunnerArgs.merge(new String[] {"--runner=FlinkRunner", "--fasterCopy=false"})),
        contains("--runner=FlinkRunner", "--fasterCopy=false"));
  }

  @Test
  void aStreamOnFlinkCheckpointsEveryTenSecondsUnlessToldOtherwise() {
    assertThat(List.of(RunnerArgs.forStream(RunnerArgs.merge(new String[] {"--spec=s"}))),
        hasItem("--checkpointingInterval=10000"));
    assertThat(List.of(RunnerArgs.forStream(new String[] {"--runner=FlinkRunner",
        "--checkpointingInterval=-1"})), not(hasItem("--checkpointingInterval=10000")));
    assertThat(List.of(RunnerArgs.forStream(new String[] {"--runner=DirectRunner"})),
        equalTo(List.of("--runner=DirectRunner")));
  }

  @Test
  void aLineThatIsNotAnOptionIsRefusedWithTheFileNamed(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("bad.args");
    Files.writeString(config, "runner=FlinkRunner\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RunnerArgs.merge(new String[] {"--runnerConfig=" + config}));
    assertThat(e.getMessage(), containsString("bad.args"));
    assertThat(e.getMessage(), containsString("'runner=FlinkRunner' is not a --name=value option"));
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> RunnerArgs.merge(new String[] {"--runnerConfig=" + dir.resolve("nope.args")}));
    assertThat(missing.getMessage(), containsString("cannot read runner config"));
  }

  @Test
  void aKeptLineTakesItsVariablesFromTheEnvironment(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("dataflow.args");
    Files.writeString(config, "--runner=DataflowRunner\n--project=${GCP_PROJECT}\n"
        + "--tempLocation=gs://${FB_BUCKET}/tmp/${FB_BUCKET}\n--jobName=price$1-${X}\n");
    Map<String, String> env = Map.of("GCP_PROJECT", "my-project", "FB_BUCKET", "b$1\\", "X", "x");
    String[] merged = RunnerArgs.merge(new String[] {"--runnerConfig=" + config}, env::get);
    // Every ${NAME} is replaced (a value's own $ and \ are kept as they are); a lone $ stays.
    assertThat(List.of(merged), contains("--runnerConfig=" + config, "--runner=DataflowRunner",
        "--project=my-project", "--tempLocation=gs://b$1\\/tmp/b$1\\", "--jobName=price$1-x"));
  }

  @Test
  void anUnsetOrEmptyVariableStopsTheRunNamingIt(@TempDir Path dir) throws IOException {
    Path config = dir.resolve("dataflow.args");
    Files.writeString(config, "--runner=DataflowRunner\n--region=${GCP_REGION}\n");
    IllegalArgumentException unset = assertThrows(IllegalArgumentException.class,
        () -> RunnerArgs.merge(new String[] {"--runnerConfig=" + config}, name -> null));
    assertThat(unset.getMessage(), containsString("dataflow.args"));
    assertThat(unset.getMessage(), containsString(
        "--region=${GCP_REGION} needs the environment variable GCP_REGION, which is not set"));
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> RunnerArgs.merge(new String[] {"--runnerConfig=" + config}, name -> ""));
    assertThat(empty.getMessage(), containsString("GCP_REGION, which is empty"));
    // A line the command line overrides is not expanded, so its variable may be unset.
    assertThat(List.of(RunnerArgs.merge(
            new String[] {"--region=europe-west1", "--runnerConfig=" + config}, name -> null)),
        contains("--region=europe-west1", "--runnerConfig=" + config, "--runner=DataflowRunner"));
  }
}
