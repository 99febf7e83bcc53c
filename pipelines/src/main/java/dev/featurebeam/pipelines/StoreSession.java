package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.StoreLock;
import dev.featurebeam.io.sink.StoreRecovery;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * One run's hold on a store version, for batch and stream alike: the version's lock, taken
 * before anything is staged; recovery of what an interrupted run left, under it; and the run's
 * own staging folder, removed (with {@code _staging} when empty) before the lock is let go,
 * however the run ends.
 */
final class StoreSession implements AutoCloseable {
  final Path versionDir;
  final String runId;
  /** {@code _staging/<run id>/}: the partitions' staging. */
  final Path staging;
  /** {@code _staging/<run id>/_run/}: the report, quarantine and outcomes until they are swapped in. */
  final Path runStaging;
  private final StoreLock lock;
  private final Consumer<String> notices;

  private StoreSession(Path versionDir, StoreLock lock, Consumer<String> notices) {
    this.versionDir = versionDir;
    this.lock = lock;
    this.notices = notices;
    this.runId = UUID.randomUUID().toString();
    this.staging = OfflineStore.runStagingDir(versionDir, runId);
    this.runStaging = staging.resolve(OfflineStore.RUN);
  }

  /**
   * Takes the lock of {@code versionDir} for {@code purpose} (waiting for another holder unless
   * {@code noWait}) and repairs the store under it. {@code outOption} names the folder in the error
   * when it cannot be written.
   */
  static StoreSession open(Path versionDir, String purpose, boolean noWait, String outOption,
      Consumer<String> notices) {
    StoreLock lock;
    try {
      lock = StoreLock.acquire(versionDir, purpose, !noWait, notices);
    } catch (UncheckedIOException e) {
      throw new IllegalArgumentException("--out=" + outOption + " cannot be written: "
          + e.getCause().getMessage());
    }
    try {
      StoreRecovery.Result recovered = StoreRecovery.recover(versionDir);
      if (!recovered.restored.isEmpty()) {
        notices.accept("restored what an interrupted run had moved aside: "
            + String.join(", ", recovered.restored));
      }
      return new StoreSession(versionDir, lock, notices);
    } catch (RuntimeException | Error e) {
      lock.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      OfflineStore.deleteRecursively(staging);
      OfflineStore.deleteIfEmpty(staging.getParent());
    } catch (IOException e) {
      notices.accept("could not remove " + staging + ": " + e.getMessage());
    } finally {
      lock.close();
    }
  }
}
