package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A stream on a Flink cluster cancels its job when the command is stopped: the hook is registered
 * for a remote master only, cancels a running job once, leaves an ended one alone, and is removed
 * once the command stops the job itself.
 */
class CancelOnExitTest {
  /** A job that runs until it is cancelled, then reports CANCELLED. */
  static class FakeJob implements PipelineResult {
    final AtomicInteger cancels = new AtomicInteger();
    volatile State state;

    FakeJob(State state) {
      this.state = state;
    }

    @Override
    public State getState() {
      return state;
    }

    @Override
    public State cancel() {
      cancels.incrementAndGet();
      state = State.CANCELLED;
      return state;
    }

    @Override
    public State waitUntilFinish(Duration duration) {
      return state;
    }

    @Override
    public State waitUntilFinish() {
      return state;
    }

    @Override
    public MetricResults metrics() {
      throw new UnsupportedOperationException();
    }
  }

  private static FlinkPipelineOptions flink(String master) {
    FlinkPipelineOptions o = PipelineOptionsFactory.fromArgs("--flinkMaster=" + master)
        .as(FlinkPipelineOptions.class);
    o.setRunner(FlinkRunner.class);
    return o;
  }

  @Test
  void onlyAJobOnAClusterNeedsTheHook() {
    assertThat(CancelOnExit.remote(flink("localhost:8081")), is(true));
    assertThat(CancelOnExit.remote(flink("flink-jm.example.com:8081")), is(true));
    assertThat(CancelOnExit.remote(flink("[local]")), is(false));
    assertThat(CancelOnExit.remote(flink("[auto]")), is(false));
    FlinkPipelineOptions direct = flink("localhost:8081");
    direct.setRunner(DirectRunner.class);
    assertThat(CancelOnExit.remote(direct), is(false));

    FakeJob job = new FakeJob(PipelineResult.State.RUNNING);
    try (CancelOnExit local = CancelOnExit.register(flink("[local]"), job, n -> { })) {
      assertThat(local.registered(), is(false));
    }
    try (CancelOnExit remote = CancelOnExit.register(flink("localhost:8081"), job, n -> { })) {
      assertThat(remote.registered(), is(true));
    }
    // Closed: the hook is gone, so the JVM's exit does not cancel a job the command stopped.
    assertThat(job.cancels.get(), is(0));
  }

  @Test
  void theHookCancelsARunningJobAndSaysSo() {
    FakeJob job = new FakeJob(PipelineResult.State.RUNNING);
    List<String> notices = new ArrayList<>();
    CancelOnExit.cancel(job, notices::add);
    assertThat(job.cancels.get(), is(1));
    assertThat(job.state, is(PipelineResult.State.CANCELLED));
    assertThat(notices, contains("stopping: cancelling the stream's job on the cluster"));
  }

  @Test
  void anEndedJobIsLeftAlone() {
    for (PipelineResult.State ended : new PipelineResult.State[] {PipelineResult.State.DONE,
        PipelineResult.State.CANCELLED, PipelineResult.State.FAILED}) {
      FakeJob job = new FakeJob(ended);
      List<String> notices = new ArrayList<>();
      CancelOnExit.cancel(job, notices::add);
      assertThat(job.cancels.get(), is(0));
      assertThat(notices, empty());
    }
  }

  @Test
  void aClusterThatCannotBeReachedIsNamedNotThrown() {
    PipelineResult unreachable = new FakeJob(PipelineResult.State.RUNNING) {
      @Override
      public State cancel() {
        throw new IllegalStateException("connection refused");
      }
    };
    List<String> notices = new ArrayList<>();
    CancelOnExit.cancel(unreachable, notices::add);
    assertThat(notices, hasSize(2));
    assertThat(notices.get(1), is("could not cancel the stream's job (connection refused);"
        + " cancel it on the cluster"));
  }
}
