package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import dev.featurebeam.io.sink.StoreCounters;
import dev.featurebeam.transforms.Counters;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each runner's way to the running job's counters, on a real job. */
class LiveMetricsTest {
  static class CountFn extends DoFn<Integer, Integer> {
    @ProcessElement
    public void process(@Element Integer i, OutputReceiver<Integer> out) {
      Counters.counter(Counters.READ).inc();
      Metrics.counter(StoreCounters.NAMESPACE, StoreCounters.FILES_STAGED).inc(2);
      out.output(i);
    }
  }

  private static ProgressSink runAndPoll(PipelineOptions options, boolean live) {
    try (LiveMetrics metrics = LiveMetrics.attach(options, true)) {
      Pipeline p = Pipeline.create(options);
      p.apply(Create.of(1, 2, 3, 4, 5)).apply(ParDo.of(new CountFn()));
      PipelineResult result = p.run();
      metrics.started(result);
      result.waitUntilFinish();
      ProgressSink sink = new ProgressSink();
      if (live) {
        sink.writeMetrics(metrics.poll());
      } else {
        assertThat(metrics.poll(), nullValue());
      }
      return sink;
    }
  }

  @Test
  void theEmbeddedFlinkClusterReportsThroughTheRunsReporter() {
    PipelineOptions options = PipelineOptionsFactory.fromArgs(
        "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2").create();
    ProgressSink sink = runAndPoll(options, true);
    assertThat(sink.stage(Counters.READ), is(5L));
    assertThat(sink.store(StoreCounters.FILES_STAGED), is(10L));
    // The run's configuration folder is temporary.
    String conf = options.as(FlinkPipelineOptions.class).getFlinkConfDir();
    assertThat(Files.exists(Path.of(conf)), is(false));
  }

  @Test
  void aGivenFlinkConfigurationIsKeptBesideTheReporter(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("config.yaml"), "taskmanager.numberOfTaskSlots: 2");
    PipelineOptions options = PipelineOptionsFactory.fromArgs("--runner=FlinkRunner",
        "--flinkMaster=[local]", "--flinkConfDir=" + dir).create();
    ProgressSink sink = runAndPoll(options, true);
    assertThat(sink.stage(Counters.READ), is(5L));
    assertThat(Files.readString(dir.resolve("config.yaml")), is("taskmanager.numberOfTaskSlots: 2"));
  }

  @Test
  void theDirectRunnerReturnsAtOnceAndItsResultsAreLive() {
    PipelineOptions options = PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create();
    ProgressSink sink = runAndPoll(options, true);
    assertThat(options.as(DirectOptions.class).isBlockOnRun(), is(false));
    assertThat(sink.stage(Counters.READ), is(5L));
  }

  @Test
  void withoutProgressFlinkKeepsItsOwnConfiguration() {
    PipelineOptions options = PipelineOptionsFactory.fromArgs(
        "--runner=FlinkRunner", "--flinkMaster=[local]").create();
    try (LiveMetrics metrics = LiveMetrics.attach(options, false)) {
      assertThat(options.as(FlinkPipelineOptions.class).getFlinkConfDir(), nullValue());
      assertThat(metrics.poll(), nullValue());
    }
  }
}
