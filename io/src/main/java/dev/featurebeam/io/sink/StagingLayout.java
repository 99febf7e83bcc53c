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

  Path versionDir() {
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
