package dev.featurebeam.io.sink;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Repairs what interrupted runs left in a version folder: a two-rename swap that moved a published
 * folder (a partition, or a run's folder under {@code _runs/}) aside and died before moving the
 * new one in gets the old one back, and every staging folder is deleted. Only a holder of the
 * {@link StoreLock} may call it: then no other run is live, so every staging folder is stale.
 */
public final class StoreRecovery {
  private StoreRecovery() {}

  /** What a recovery did. */
  public static final class Result {
    /**
     * Folders put back in place (local root) or rolled forward from a journal (remote root),
     * relative to the version folder.
     */
    public final List<String> restored;
    /** Staging folders of earlier runs that were deleted. */
    public final int staleRuns;

    Result(List<String> restored, int staleRuns) {
      this.restored = List.copyOf(restored);
      this.staleRuns = staleRuns;
    }
  }

  /** Recovers every partition of the version folder, whatever range the interrupted runs had. */
  public static Result recover(Path versionDir) {
    Path staging = versionDir.resolve(OfflineStore.STAGING);
    List<String> restored = new ArrayList<>();
    int stale = 0;
    try {
      for (Path run : list(staging)) {
        Path trash = run.resolve(OfflineStore.TRASH);
        for (Path old : list(trash)) {
          if (old.getFileName().toString().equals(OfflineStore.RUNS)) {
            for (Path runFolder : list(old)) {
              restore(versionDir, runFolder, versionDir.resolve(OfflineStore.RUNS), restored);
            }
          } else {
            restore(versionDir, old, versionDir, restored);
          }
        }
        OfflineStore.deleteRecursively(run);
        stale++;
      }
      OfflineStore.deleteIfEmpty(staging);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot recover " + versionDir + ": " + e.getMessage(), e);
    }
    return new Result(restored, stale);
  }

  /**
   * Recovers a version folder on a remote root ({@link RemotePublish}): every staged date of an
   * interrupted run that has its journal (a staged manifest whose files are all staged with their
   * sha256) is rolled forward into place, as is a staged run folder with its journal; everything
   * else staged is discarded. {@link Result#restored} lists what was rolled forward.
   */
  public static Result recover(String versionDir) {
    if (!StoreLocation.isRemote(versionDir)) {
      return recover(StoreLocation.localPath(versionDir));
    }
    RemoteFs fs = StoreLocation.fs(versionDir);
    String staging = StoreLocation.join(versionDir, OfflineStore.STAGING);
    List<String> restored = new ArrayList<>();
    int stale = 0;
    try {
      for (String run : fs.list(staging)) {
        String runDir = StoreLocation.join(staging, run);
        for (String name : fs.list(runDir)) {
          String staged = StoreLocation.join(runDir, name);
          if (name.startsWith(dev.featurebeam.spec.FeatureSpec.AS_OF_DATE + "=")) {
            if (fs.isFile(StoreLocation.join(staged, OfflineStore.MANIFEST))
                && RemotePublish.stagedFilesMatch(fs, staged)) {
              RemotePublish.rollForward(fs, staged, StoreLocation.join(versionDir, name),
                  "recovery");
              restored.add(name);
            }
          } else if (name.equals(OfflineStore.RUN)
              && fs.isFile(StoreLocation.join(staged, RemotePublish.RUN_JOURNAL))) {
            restored.add(RemotePublish.rollForwardRunFolder(fs, staged, versionDir, "recovery"));
          }
        }
        fs.deleteTree(runDir);
        stale++;
      }
      fs.deleteIfEmpty(staging);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot recover " + versionDir + ": " + e.getMessage(), e);
    }
    return new Result(restored, stale);
  }

  /** Moves {@code old} back into {@code parent} unless a folder of its name is there again. */
  private static void restore(Path versionDir, Path old, Path parent, List<String> restored)
      throws IOException {
    Path target = parent.resolve(old.getFileName().toString());
    if (!Files.exists(target)) {
      Files.createDirectories(parent);
      Files.move(old, target, ATOMIC_MOVE);
      restored.add(versionDir.relativize(target).toString());
    }
  }

  private static List<Path> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().collect(Collectors.toList());
    }
  }
}
