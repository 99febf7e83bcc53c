package dev.featurebeam.pipelines;

import java.io.IOException;
import java.util.function.Consumer;
import javax.annotation.Nullable;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Cancels a stream's job on a Flink cluster when the command ends before the stream does (Ctrl-C,
 * SIGTERM): a job submitted detached to a session cluster outlives the JVM that submitted it, and
 * would go on writing the store after the command, and the store's lock, are gone. In Flink's
 * local mode the mini-cluster ends with the JVM (and a checkpointed stream resumes when started
 * again), so nothing is registered there. SIGKILL runs no hook: that job must be cancelled on the
 * cluster.
 */
final class CancelOnExit implements AutoCloseable {
  /** How long the hook waits for the cancelled job to reach a final state. */
  static final long WAIT_MILLIS = 10_000;

  private final @Nullable Thread hook;

  private CancelOnExit(@Nullable Thread hook) {
    this.hook = hook;
  }

  /** Whether {@code options} submit to a Flink cluster rather than an embedded one. */
  static boolean remote(PipelineOptions options) {
    if (!FlinkRunner.class.equals(options.getRunner())) {
      return false;
    }
    String master = options.as(FlinkPipelineOptions.class).getFlinkMaster();
    return master != null && !master.equals("[local]") && !master.equals("[auto]")
        && !master.equals("[collection]");
  }

  /** Registers the hook for {@code result}'s job when {@code options} submit to a cluster. */
  static CancelOnExit register(PipelineOptions options, PipelineResult result,
      Consumer<String> notices) {
    if (!remote(options)) {
      return new CancelOnExit(null);
    }
    Thread hook = new Thread(() -> cancel(result, notices), "featurebeam-stream-cancel");
    Runtime.getRuntime().addShutdownHook(hook);
    return new CancelOnExit(hook);
  }

  /** Cancels the job unless it has ended, and waits a moment for it to end. */
  static void cancel(PipelineResult result, Consumer<String> notices) {
    try {
      PipelineResult.State state = result.getState();
      if (state != null && state.isTerminal()) {
        return;
      }
      notices.accept("stopping: cancelling the stream's job on the cluster");
      result.cancel();
      long deadline = System.currentTimeMillis() + WAIT_MILLIS;
      while (System.currentTimeMillis() < deadline) {
        state = result.getState();
        if (state != null && state.isTerminal()) {
          return;
        }
        Thread.sleep(200);
      }
      notices.accept("the stream's job did not stop within " + WAIT_MILLIS / 1000
          + " s; cancel it on the cluster");
    } catch (IOException | RuntimeException e) {
      notices.accept("could not cancel the stream's job (" + e.getMessage()
          + "); cancel it on the cluster");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The command stops the job itself from here on: the hook is not needed any more. */
  @Override
  public void close() {
    if (hook == null) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs (or ran) anyway
    }
  }

  /** For tests: whether a hook was registered. */
  boolean registered() {
    return hook != null;
  }
}
