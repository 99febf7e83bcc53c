package dev.featurebeam.io.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderSwapTest {
  @TempDir Path tmp;

  @AfterEach
  void clearProperties() {
    System.clearProperty(FolderSwap.PROPERTY);
    System.clearProperty(StoreFaults.PROPERTY);
  }

  private static Path partition(Path dir, int generation) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("part-00000-of-00002.parquet"), "a" + generation);
    Files.writeString(dir.resolve("part-00001-of-00002.parquet"), "b" + generation);
    Files.writeString(dir.resolve(OfflineStore.MANIFEST), "m" + generation);
    return dir;
  }

  /**
   * With the exchange, a reader polling the published folder never finds it missing or without
   * one of its files, across many publishes. (A reader that lists or reads a partition while it is
   * replaced may see files of the new one: the manifest's sha256 values tell.)
   */
  @Test
  void aReaderNeverFindsThePartitionMissingDuringPublishes() throws Exception {
    assertThat("this machine's file system supports the exchange", FolderSwap.method(),
        is("exchange"));
    Path published = partition(tmp.resolve("v1/as_of_date=2025-01-01"), 0);
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong reads = new AtomicLong();
    AtomicLong bad = new AtomicLong();
    Thread reader = new Thread(() -> {
      while (!done.get()) {
        try {
          Files.readString(published.resolve(OfflineStore.MANIFEST));
          Files.readString(published.resolve("part-00000-of-00002.parquet"));
          Files.readString(published.resolve("part-00001-of-00002.parquet"));
          reads.incrementAndGet();
        } catch (NoSuchFileException e) {
          bad.incrementAndGet();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }
    });
    reader.start();
    for (int g = 1; g <= 300; g++) {
      Path staged = partition(tmp.resolve("v1/_staging/run" + g + "/as_of_date=2025-01-01"), g);
      FolderSwap.replace(staged, published, tmp.resolve("v1/_staging/run" + g + "/_trash/p"), "");
      assertThat(Files.exists(staged), is(false)); // the old folder is gone with it
    }
    done.set(true);
    reader.join();
    assertThat("reads that found a file missing", bad.get(), is(0L));
    assertThat(reads.get() > 300, is(true));
    assertThat(Files.readString(published.resolve(OfflineStore.MANIFEST)), is("m300"));
  }

  /** The two-rename fallback, stopped between its renames, leaves the old folder for recovery. */
  @Test
  void aSwapStoppedBetweenItsTwoRenamesIsRecovered() throws Exception {
    System.setProperty(FolderSwap.PROPERTY, "rename");
    assertThat(FolderSwap.method(), is("rename"));
    Path v = tmp.resolve("fs/v1");
    Path published = partition(v.resolve("as_of_date=2025-01-01"), 1);
    Path staged = partition(v.resolve("_staging/r/as_of_date=2025-01-01"), 2);
    System.setProperty(StoreFaults.PROPERTY, StoreFaults.AFTER_ASIDE + "@2025-01-01:throw");
    assertThrows(IOException.class, () -> FolderSwap.replace(staged, published,
        v.resolve("_staging/r/_trash/as_of_date=2025-01-01"), "2025-01-01"));
    assertThat("between the renames, no partition is in place", Files.exists(published), is(false));

    StoreRecovery.recover(v);
    assertThat(Files.readString(published.resolve(OfflineStore.MANIFEST)), is("m1"));
    assertThat(Files.exists(v.resolve("_staging")), is(false));

    // Without a fault the fallback swap completes and leaves nothing aside.
    System.clearProperty(StoreFaults.PROPERTY);
    Path again = partition(v.resolve("_staging/s/as_of_date=2025-01-01"), 3);
    FolderSwap.replace(again, published, v.resolve("_staging/s/_trash/as_of_date=2025-01-01"),
        "2025-01-01");
    assertThat(Files.readString(published.resolve(OfflineStore.MANIFEST)), is("m3"));
    assertThat(Files.exists(v.resolve("_staging/s/_trash/as_of_date=2025-01-01")), is(false));
  }

  @Test
  void theFirstPublishIsOneRename() throws Exception {
    Path staged = partition(tmp.resolve("v1/_staging/r/as_of_date=2025-01-01"), 1);
    Path published = tmp.resolve("v1/as_of_date=2025-01-01");
    FolderSwap.replace(staged, published, tmp.resolve("unused"), "");
    assertThat(Files.readString(published.resolve(OfflineStore.MANIFEST)), is("m1"));
    assertThat(Files.exists(staged), is(false));
  }
}
