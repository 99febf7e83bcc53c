package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.OfflineStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.annotation.Nullable;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;

/**
 * What lets a stream on Flink's local mode resume after it was killed: a folder per stream,
 * {@code _streams/<from>_<to>/}, kept until the stream ends, with Flink's retained checkpoints,
 * the run's staging (outcomes, quarantine runs, counts) and a Flink configuration that points the
 * checkpoints there and, on a restart, names the latest completed one to restore. Beam's Flink
 * runner ignores {@code --savepointPath} for {@code [local]}, and reads {@code
 * execution.savepoint.path} from the configuration it is given, hence the file.
 */
final class StreamCheckpoints {
  private static final Pattern CHECKPOINT = Pattern.compile("chk-(\\d+)");
  static final String CHECKPOINTS = "checkpoints";
  static final String CONF = "flink-conf";
  static final String RUN = "run";
  /**
   * The stream's identity across restarts (its Kafka group id is derived from it), then the
   * fingerprint of what it computes (spec and source).
   */
  static final String ID_FILE = "stream-id";

  final Path dir;
  final String streamId;
  /** The checkpoint this start restores; null for a fresh start. */
  final @Nullable Path restoring;

  private StreamCheckpoints(Path dir, String streamId, @Nullable Path restoring) {
    this.dir = dir;
    this.streamId = streamId;
    this.restoring = restoring;
  }

  /** Whether {@code options} run the stream on Flink with checkpoints, on any master. */
  static boolean checkpointing(FlinkPipelineOptions options) {
    return FlinkRunner.class.equals(options.getRunner())
        && options.getCheckpointingInterval() != null
        && options.getCheckpointingInterval() > 0;
  }

  /**
   * Whether {@code options} ask for a checkpointed stream in Flink's local mode ({@code [local]},
   * or {@code [auto]} outside a cluster, which Beam runs locally with the same configuration):
   * the one whose checkpoints the stream keeps and restores itself.
   */
  static boolean wanted(FlinkPipelineOptions options) {
    return checkpointing(options)
        && ("[local]".equals(options.getFlinkMaster())
            || "[auto]".equals(options.getFlinkMaster()));
  }

  /**
   * Opens the stream's folder under the store's lock: resumes from its latest completed checkpoint
   * when there is one, else starts it afresh (anything a stream left without a checkpoint is
   * removed). Sets the Flink options that retain checkpoints there and restore that one.
   */
  static StreamCheckpoints open(Path versionDir, String name, String fingerprint,
      FlinkPipelineOptions options) {
    if (options.getFlinkConfDir() != null) {
      throw new IllegalArgumentException("--flinkConfDir cannot be given to a checkpointed stream"
          + " in Flink's local mode: the stream writes its own configuration, to retain and"
          + " restore its checkpoints");
    }
    Path dir = OfflineStore.streamStateDir(versionDir, name);
    try {
      Optional<Path> latest = latestCheckpoint(dir.resolve(CHECKPOINTS));
      Path idFile = dir.resolve(ID_FILE);
      String id;
      List<String> kept = Files.isRegularFile(idFile)
          ? Files.readAllLines(idFile, StandardCharsets.UTF_8) : List.of();
      // A checkpoint of another spec or source would restore state this stream cannot read.
      if (latest.isPresent() && kept.size() == 2 && kept.get(1).equals(fingerprint)) {
        id = kept.get(0);
      } else {
        latest = Optional.empty();
        OfflineStore.deleteRecursively(dir);
        Files.createDirectories(dir);
        id = UUID.randomUUID().toString();
        Files.write(idFile, List.of(id, fingerprint), StandardCharsets.UTF_8);
      }
      Path conf = dir.resolve(CONF);
      Files.createDirectories(conf);
      StringBuilder yaml = new StringBuilder()
          .append("state.checkpoints.dir: ").append(dir.resolve(CHECKPOINTS).toUri()).append('\n');
      latest.ifPresent(chk -> yaml.append("execution.savepoint.path: ").append(chk.toUri())
          .append('\n'));
      Files.writeString(conf.resolve("flink-conf.yaml"), yaml, StandardCharsets.UTF_8);
      Files.createDirectories(dir.resolve(RUN));
      options.setFlinkConfDir(conf.toString());
      options.setExternalizedCheckpointsEnabled(true);
      options.setRetainExternalizedCheckpointsOnCancellation(true);
      // Bundles end before each snapshot: StreamPipeline.forCheckpoints, for every master.
      return new StreamCheckpoints(dir, id, latest.orElse(null));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the stream's checkpoints in " + dir, e);
    }
  }

  /** The run's staging, kept across restarts. */
  Path runStaging() {
    return dir.resolve(RUN);
  }

  /** Once the stream has ended well: nothing is left to resume. */
  void remove() throws IOException {
    OfflineStore.deleteRecursively(dir);
    OfflineStore.deleteIfEmpty(dir.getParent());
  }

  /**
   * The completed checkpoint with the highest number under {@code root} ({@code
   * <job id>/chk-<n>/_metadata}; a restored job numbers on from the checkpoint it restored).
   */
  static Optional<Path> latestCheckpoint(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> jobs = Files.list(root)) {
      return jobs.filter(Files::isDirectory)
          .flatMap(job -> {
            try (Stream<Path> chks = Files.list(job)) {
              return chks.filter(c -> CHECKPOINT.matcher(c.getFileName().toString()).matches()
                  && Files.isRegularFile(c.resolve("_metadata"))).toList().stream();
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          })
          .max(Comparator.comparingLong(StreamCheckpoints::number));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  static long number(Path checkpoint) {
    Matcher m = CHECKPOINT.matcher(checkpoint.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }
}
