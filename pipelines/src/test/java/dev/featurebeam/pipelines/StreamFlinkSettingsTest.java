package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/**
 * The Flink settings a stream runs with, whatever the command line or the runner config said: a
 * checkpointed stream, on the embedded runner or a session cluster, ends its bundles before a
 * checkpoint; with an online writer, keyed state is also copied for a checkpoint (no
 * --fasterCopy), and chained steps reuse objects.
 */
class StreamFlinkSettingsTest {
  @Test
  void theOnlineWriterOverridesTheCommandLinesFlinkSettings() {
    FlinkPipelineOptions o = PipelineOptionsFactory.fromArgs("--fasterCopy=true",
        "--objectReuse=false", "--finishBundleBeforeCheckpointing=false")
        .as(FlinkPipelineOptions.class);
    StreamPipeline.forOnlineWriter(o);
    assertThat(o.getFasterCopy(), is(false));
    assertThat(o.getObjectReuse(), is(true));
    assertThat(o.getFinishBundleBeforeCheckpointing(), is(true));
  }

  @Test
  void aCheckpointedStreamEndsItsBundlesBeforeEachCheckpointOnAnyMaster() {
    for (String master : new String[] {"[local]", "[auto]", "localhost:8081"}) {
      FlinkPipelineOptions o = flink("--flinkMaster=" + master, "--checkpointingInterval=5000",
          "--finishBundleBeforeCheckpointing=false");
      StreamPipeline.forCheckpoints(o);
      assertThat(master, o.getFinishBundleBeforeCheckpointing(), is(true));
    }
  }

  @Test
  void aStreamWithoutCheckpointsKeepsItsBundleSetting() {
    FlinkPipelineOptions o = flink("--flinkMaster=localhost:8081", "--checkpointingInterval=-1",
        "--finishBundleBeforeCheckpointing=false");
    StreamPipeline.forCheckpoints(o);
    assertThat(o.getFinishBundleBeforeCheckpointing(), is(false));
  }

  private static FlinkPipelineOptions flink(String... args) {
    FlinkPipelineOptions o = PipelineOptionsFactory.fromArgs(args).as(FlinkPipelineOptions.class);
    o.setRunner(FlinkRunner.class);
    return o;
  }
}
