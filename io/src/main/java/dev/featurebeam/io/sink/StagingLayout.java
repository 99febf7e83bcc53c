package dev.featurebeam.io.sink;

import java.io.Serializable;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where one run stages its files in a version folder, and where they go when published:
 *
 * <pre>
 * VERSION/_staging/RUN/as_of_date=D/       a staged partition (the old one after an exchange)
 * VERSION/_staging/RUN/_trash/as_of_date=D  an old partition moved aside by a two-rename swap
 * VERSION/_staging/RUN/_run/               the run's report and quarantine, before they move to
 *                                          VERSION/_runs/FROM_TO/
 * </pre>
 *
 * <p>On a remote root ({@link StoreLocation#isRemote}) the same layout is given as locations
 * ({@code *Location} methods); the Path methods are for local roots only.
 */
final class StagingLayout implements Serializable {
  private final String root;
  private final String featureSet;
  private final int version;
  private final String runId;

  StagingLayout(String root, String featureSet, int version, String runId) {
    this.root = root;
    this.featureSet = featureSet;
    this.version = version;
    this.runId = runId;
  }

  boolean remote() {
    return StoreLocation.isRemote(root);
  }

  /** The version folder as a location string, local or remote. */
  String versionLocation() {
    return remote() ? StoreLocation.join(root, featureSet, "v" + version) : versionDir().toString();
  }

  String publishedLocation(long day) {
    return remote() ? StoreLocation.join(versionLocation(), OfflineStore.partitionName(day))
        : publishedDir(day).toString();
  }

  String runLocation() {
    return remote() ? StoreLocation.join(versionLocation(), OfflineStore.STAGING, runId)
        : runDir().toString();
  }

  String stagedLocation(long day) {
    return remote() ? StoreLocation.join(runLocation(), OfflineStore.partitionName(day))
        : stagedDir(day).toString();
  }

  Path versionDir() {
    if (remote()) {
      throw new IllegalStateException("a remote root has no local path: " + root);
    }
    return OfflineStore.versionDir(Paths.get(root), featureSet, version);
  }

  Path publishedDir(long day) {
    return versionDir().resolve(OfflineStore.partitionName(day));
  }

  Path runDir() {
    return versionDir().resolve(OfflineStore.STAGING).resolve(runId);
  }

  Path stagedDir(long day) {
    return runDir().resolve(OfflineStore.partitionName(day));
  }

  Path asideDir(long day) {
    return runDir().resolve(OfflineStore.TRASH).resolve(OfflineStore.partitionName(day));
  }
}
