package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which checkpoint a stream resumes from, and when it starts afresh instead. */
class StreamCheckpointsTest {
  @TempDir Path tmp;

  private static FlinkPipelineOptions options(String... args) {
    FlinkPipelineOptions o = PipelineOptionsFactory.fromArgs(args).as(FlinkPipelineOptions.class);
    o.setRunner(FlinkRunner.class);
    return o;
  }

  private static Path checkpoint(Path root, String job, int n, boolean complete) throws Exception {
    Path chk = Files.createDirectories(root.resolve(job).resolve("chk-" + n));
    if (complete) {
      Files.writeString(chk.resolve("_metadata"), "x");
    }
    return chk;
  }

  @Test
  void onlyALocalFlinkStreamWithAnIntervalIsCheckpointed() {
    assertThat(StreamCheckpoints.wanted(options("--flinkMaster=[local]",
        "--checkpointingInterval=1000")), is(true));
    assertThat(StreamCheckpoints.wanted(options("--flinkMaster=[auto]",
        "--checkpointingInterval=1000")), is(true));
    assertThat(StreamCheckpoints.wanted(options("--flinkMaster=[local]")), is(false));
    assertThat(StreamCheckpoints.wanted(options("--flinkMaster=host:8081",
        "--checkpointingInterval=1000")), is(false));
  }

  @Test
  void theLatestCompletedCheckpointIsTheHighestNumberedOneWithItsMetadata() throws Exception {
    Path root = tmp.resolve("checkpoints");
    checkpoint(root, "job-a", 3, true);
    Path latest = checkpoint(root, "job-b", 12, true); // a restored job numbers on
    checkpoint(root, "job-b", 13, false); // still being written
    checkpoint(root, "job-a", 9, true);
    assertThat(StreamCheckpoints.latestCheckpoint(root).orElseThrow(), equalTo(latest));
    assertThat(StreamCheckpoints.latestCheckpoint(tmp.resolve("none")).isPresent(), is(false));
  }

  @Test
  void aStreamResumesItsOwnCheckpointAndStartsAfreshForAnotherSpecOrSource() throws Exception {
    Path version = tmp.resolve("store/fs/v1");
    FlinkPipelineOptions first = options("--checkpointingInterval=1000");
    StreamCheckpoints fresh = StreamCheckpoints.open(version, "2025-01-10_2025-01-14", "spec-a src",
        first);
    assertThat(fresh.restoring, nullValue());
    String conf = Files.readString(Path.of(first.getFlinkConfDir()).resolve("flink-conf.yaml"),
        StandardCharsets.UTF_8);
    assertThat(conf, containsString("state.checkpoints.dir: " + fresh.dir.resolve("checkpoints")
        .toUri()));
    assertThat(conf, not(containsString("execution.savepoint.path")));
    assertThat(first.isExternalizedCheckpointsEnabled(), is(true));
    assertThat(first.getRetainExternalizedCheckpointsOnCancellation(), is(true));
    Files.writeString(fresh.runStaging().resolve("outcome"), "kept");
    Path chk = checkpoint(fresh.dir.resolve("checkpoints"), "job", 4, true);

    FlinkPipelineOptions again = options("--checkpointingInterval=1000");
    StreamCheckpoints resumed = StreamCheckpoints.open(version, "2025-01-10_2025-01-14",
        "spec-a src", again);
    assertThat(resumed.restoring, equalTo(chk));
    assertThat(resumed.streamId, equalTo(fresh.streamId));
    assertThat(Files.readString(resumed.runStaging().resolve("outcome")), equalTo("kept"));
    assertThat(Files.readString(Path.of(again.getFlinkConfDir()).resolve("flink-conf.yaml")),
        containsString("execution.savepoint.path: " + chk.toUri()));

    StreamCheckpoints other = StreamCheckpoints.open(version, "2025-01-10_2025-01-14",
        "spec-b src", options("--checkpointingInterval=1000"));
    assertThat(other.restoring, nullValue());
    assertThat(other.streamId, not(equalTo(fresh.streamId)));
    assertThat(Files.exists(other.runStaging().resolve("outcome")), is(false));

    other.remove();
    assertThat(Files.exists(version.resolve("_streams")), is(false));
  }

  @Test
  void aFlinkConfDirOfTheUsersIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> StreamCheckpoints.open(tmp, "a_b", "f", options("--checkpointingInterval=1000",
            "--flinkConfDir=/etc/flink")));
    assertThat(e.getMessage(), containsString("--flinkConfDir"));
  }
}
