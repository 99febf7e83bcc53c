package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.StoreLocation;
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
 * however the run ends. A remote root ({@code hdfs://…}, {@code s3://…}) has only the locations;
 * its Path fields are null.
 */
final class StoreSession implements AutoCloseable {
  final Path versionDir;
  final String runId;
  /** {@code _staging/<run id>/}: the partitions' staging. */
  final Path staging;
  /** {@code _staging/<run id>/_run/}: the report, quarantine and outcomes until they are swapped in. */
  final Path runStaging;
  /** {@link #staging} as a location, local or remote. */
  final String stagingLocation;
  /** {@link #runStaging} as a location, local or remote. */
  final String runStagingLocation;
  private final StoreLock lock;
  private final Consumer<String> notices;

  private StoreSession(Path versionDir, StoreLock lock, Consumer<String> notices) {
    this.versionDir = versionDir;
    this.lock = lock;
    this.notices = notices;
    this.runId = UUID.randomUUID().toString();
    this.staging = OfflineStore.runStagingDir(versionDir, runId);
    this.runStaging = staging.resolve(OfflineStore.RUN);
    this.stagingLocation = staging.toString();
    this.runStagingLocation = runStaging.toString();
  }

  private StoreSession(String versionLocation, StoreLock lock, Consumer<String> notices) {
    this.versionDir = null;
    this.lock = lock;
    this.notices = notices;
    this.runId = UUID.randomUUID().toString();
    this.staging = null;
    this.runStaging = null;
    this.stagingLocation = StoreLocation.join(versionLocation, OfflineStore.STAGING, runId);
    this.runStagingLocation = StoreLocation.join(stagingLocation, OfflineStore.RUN);
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

  /**
   * {@link #open} for a version folder given as a location: a remote one gets the remote lock
   * ({@link StoreLock#acquire(String, String, boolean, Consumer)}) and recovery by roll-forward.
   */
  static StoreSession open(String versionLocation, String purpose, boolean noWait,
      String outOption, Consumer<String> notices) {
    if (!StoreLocation.isRemote(versionLocation)) {
      return open(StoreLocation.localPath(versionLocation), purpose, noWait, outOption, notices);
    }
    StoreLock lock;
    try {
      lock = StoreLock.acquire(versionLocation, purpose, !noWait, notices);
    } catch (UncheckedIOException e) {
      throw new IllegalArgumentException("--out=" + outOption + " cannot be written: "
          + e.getCause().getMessage());
    }
    try {
      StoreRecovery.Result recovered = StoreRecovery.recover(versionLocation);
      if (!recovered.restored.isEmpty()) {
        notices.accept("completed what an interrupted run had begun to publish: "
            + String.join(", ", recovered.restored));
      }
      return new StoreSession(versionLocation, lock, notices);
    } catch (RuntimeException | Error e) {
      lock.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      if (staging != null) {
        OfflineStore.deleteRecursively(staging);
        OfflineStore.deleteIfEmpty(staging.getParent());
      } else {
        StoreLocation.deleteTree(stagingLocation);
        StoreLocation.deleteIfEmpty(
            stagingLocation.substring(0, stagingLocation.lastIndexOf('/')));
      }
    } catch (IOException e) {
      notices.accept("could not remove " + stagingLocation + ": " + e.getMessage());
    } finally {
      lock.close();
    }
  }
}
