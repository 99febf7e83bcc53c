package dev.featurebeam.pipelines;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Where the progress line finds the running job's Beam counters, by runner:
 *
 * <ul>
 *   <li>DirectRunner: its {@link PipelineResult#metrics()} are live (each committed bundle adds
 *       to them), so {@code run()} must return at once: {@code --blockOnRun=false}, and the run
 *       waits in {@code waitUntilFinish()}. The DirectRunner has no metrics pusher.
 *   <li>Flink's embedded local mode: {@code run()} returns only at the end, and Beam's Flink
 *       runner pushes to a metrics sink only then; the run's Flink configuration gets a {@link
 *       FlinkProgressReporter}, which sees the Flink counters the runner keeps Beam's in.
 *   <li>Any other runner or a remote Flink cluster: nothing live; the line shows the elapsed time
 *       until the final results come.
 * </ul>
 */
final class LiveMetrics implements AutoCloseable {
  private final String run = UUID.randomUUID().toString();
  private volatile Supplier<MetricQueryResults> source = () -> null;
  private Path confDir;
  private boolean direct;

  private LiveMetrics() {}

  /** Prepares {@code options} before the pipeline is created from them. */
  static LiveMetrics attach(PipelineOptions options, boolean progress) {
    LiveMetrics live = new LiveMetrics();
    if (options.getRunner() == DirectRunner.class) {
      live.direct = true;
      options.as(DirectOptions.class).setBlockOnRun(false);
    } else if (progress && options.getRunner() == FlinkRunner.class) {
      live.attachFlink(options.as(FlinkPipelineOptions.class));
    }
    return live;
  }

  private void attachFlink(FlinkPipelineOptions flink) {
    String master = flink.getFlinkMaster();
    if (!master.equals("[local]") && !master.equals("[auto]")) {
      return; // a cluster's metrics are the cluster's, not this process's
    }
    String given = flink.getFlinkConfDir() != null ? flink.getFlinkConfDir()
        : System.getenv("FLINK_CONF_DIR");
    try {
      // Flink reads its configuration from a folder: the given one's file, and the reporter.
      String file = "config.yaml";
      String text = "";
      if (given != null && !given.isEmpty()) {
        Path legacy = Path.of(given, "flink-conf.yaml");
        Path standard = Path.of(given, "config.yaml");
        if (Files.isRegularFile(legacy)) {
          file = "flink-conf.yaml";
          text = Files.readString(legacy, StandardCharsets.UTF_8);
        } else if (Files.isRegularFile(standard)) {
          text = Files.readString(standard, StandardCharsets.UTF_8);
        } else {
          return; // Flink will say what is wrong with that folder
        }
        if (!text.isEmpty() && !text.endsWith("\n")) {
          text += "\n";
        }
      }
      String prefix = "metrics.reporter." + FlinkProgressReporter.NAME + ".";
      text += prefix + "factory.class: " + FlinkProgressReporter.Factory.class.getName() + "\n"
          + prefix + FlinkProgressReporter.RUN_PROPERTY + ": " + run + "\n";
      confDir = Files.createTempDirectory("featurebeam-flink-conf");
      Files.writeString(confDir.resolve(file), text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return; // no live numbers; the run itself does not need them
    }
    flink.setFlinkConfDir(confDir.toString());
    source = () -> {
      FlinkProgressReporter r = FlinkProgressReporter.of(run);
      return r == null ? null : r.snapshot();
    };
  }

  /** The job runs: the DirectRunner's results are live from here on. */
  void started(PipelineResult result) {
    if (direct) {
      source = () -> result.metrics().allMetrics();
    }
  }

  /** The counts so far, or null when there are none to have. */
  MetricQueryResults poll() {
    try {
      return source.get();
    } catch (RuntimeException e) {
      return null; // a runner that cannot answer yet; the next poll may
    }
  }

  @Override
  public void close() {
    FlinkProgressReporter.forget(run);
    if (confDir != null) {
      try {
        Files.deleteIfExists(confDir.resolve("config.yaml"));
        Files.deleteIfExists(confDir.resolve("flink-conf.yaml"));
        Files.deleteIfExists(confDir);
      } catch (IOException e) {
        // a temporary folder left behind
      }
    }
  }
}
