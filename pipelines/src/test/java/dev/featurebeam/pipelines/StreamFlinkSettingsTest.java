package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/**
 * The Flink settings a stream with an online writer runs with, whatever the command line or the
 * runner config said: bundles end before a checkpoint, keyed state is copied for a checkpoint
 * (no --fasterCopy), and chained steps reuse objects.
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
}
