package dev.featurebeam.io.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreRecoveryTest {
  @TempDir Path tmp;

  private Path folder(Path dir, String file, String content) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(file), content);
    return dir;
  }

  /**
   * A crash between the two renames of a swap left partitions and a run folder aside, in the
   * staging of runs over other ranges: all come back, whichever run recovers, and every staging
   * folder goes (the caller holds the lock, so none is live).
   */
  @Test
  void restoresEveryPartitionMovedAsideAndRemovesEveryStagingFolder() throws Exception {
    Path v = tmp.resolve("fs/v1");
    folder(v.resolve("as_of_date=2025-01-01"), "_MANIFEST.json", "published 1");
    // Run A (range 2025-01-02..03) crashed after moving 2025-01-02 aside.
    folder(v.resolve("_staging/a/_trash/as_of_date=2025-01-02"), "_MANIFEST.json", "old 2");
    folder(v.resolve("_staging/a/as_of_date=2025-01-02"), "_MANIFEST.json", "new 2");
    folder(v.resolve("_staging/a/as_of_date=2025-01-03"), "part-00000-of-00001.parquet", "x");
    // Run B crashed after moving 2025-01-05 aside and its run folder too.
    folder(v.resolve("_staging/b/_trash/as_of_date=2025-01-05"), "_MANIFEST.json", "old 5");
    folder(v.resolve("_staging/b/_trash/_runs/2025-01-05_2025-01-05"), "report.json", "old run");
    // Run C moved 2025-01-01's old folder aside after its new one was in: the new one stays.
    folder(v.resolve("_staging/c/_trash/as_of_date=2025-01-01"), "_MANIFEST.json", "older 1");

    StoreRecovery.Result r = StoreRecovery.recover(v);

    assertThat(r.restored, containsInAnyOrder(
        "as_of_date=2025-01-02", "as_of_date=2025-01-05", "_runs/2025-01-05_2025-01-05"));
    assertThat(r.staleRuns, is(3));
    assertThat(Files.readString(v.resolve("as_of_date=2025-01-01/_MANIFEST.json")),
        is("published 1"));
    assertThat(Files.readString(v.resolve("as_of_date=2025-01-02/_MANIFEST.json")), is("old 2"));
    assertThat(Files.readString(v.resolve("as_of_date=2025-01-05/_MANIFEST.json")), is("old 5"));
    assertThat(Files.readString(v.resolve("_runs/2025-01-05_2025-01-05/report.json")),
        is("old run"));
    assertThat(Files.exists(v.resolve("as_of_date=2025-01-03")), is(false));
    assertThat(Files.exists(v.resolve("_staging")), is(false));
  }

  @Test
  void aCleanStoreNeedsNothing() throws Exception {
    Path v = folder(tmp.resolve("fs/v1/as_of_date=2025-01-01"), "_MANIFEST.json", "m").getParent();
    StoreRecovery.Result r = StoreRecovery.recover(v);
    assertThat(r.restored, empty());
    assertThat(r.staleRuns, is(0));
    assertThat(StoreRecovery.recover(tmp.resolve("missing")).staleRuns, is(0));
  }
}
