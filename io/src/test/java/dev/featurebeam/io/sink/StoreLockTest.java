package dev.featurebeam.io.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreLockTest {
  @TempDir Path tmp;

  @Test
  void aSecondRunInTheSameJvmWaitsUntilTheFirstReleases() throws Exception {
    Path dir = tmp.resolve("store/fs/v1");
    List<String> notices = new CopyOnWriteArrayList<>();
    StoreLock first = StoreLock.acquire(dir, "first", true, notices::add);
    long start = System.nanoTime();
    CompletableFuture<Long> second = CompletableFuture.supplyAsync(() -> {
      try (StoreLock lock = StoreLock.acquire(dir, "second", true, notices::add)) {
        return System.nanoTime();
      }
    });
    Thread.sleep(700);
    assertThat("the second run waits", second.isDone(), is(false));
    first.close();
    long taken = second.get(10, TimeUnit.SECONDS);
    assertThat((taken - start) / 1_000_000L, greaterThanOrEqualTo(700L));
    assertThat(notices.get(0), containsString("waiting for another run that writes " + dir));
    assertThat(notices.get(0), containsString("pid " + ProcessHandle.current().pid()));
    assertThat(notices.get(0), containsString(": first"));
    assertThat(notices.get(1), containsString("lock on " + dir + " taken after"));
  }

  @Test
  void withoutWaitingASecondRunFailsAtOnceNamingTheOwner() {
    Path dir = tmp.resolve("fs/v1");
    try (StoreLock held = StoreLock.acquire(dir, "batch 2025-01-01..2025-01-31", true, n -> {})) {
      StoreLock.LockedException e = assertThrows(StoreLock.LockedException.class,
          () -> StoreLock.acquire(dir, "other", false, n -> {}));
      assertThat(e.getMessage(), containsString(dir + " is being written by another run (pid "
          + ProcessHandle.current().pid()));
      assertThat(e.getMessage(), containsString("batch 2025-01-01..2025-01-31"));
      assertThat(e.getMessage(), containsString("without --noWait"));
    }
    // Released: the next one gets it at once.
    StoreLock.acquire(dir, "third", false, n -> {}).close();
  }

  /** The lock of a process that dies (kill -9) is free again: nothing stale to clean up. */
  @Test
  void aKilledOwnersLockIsFreeAgain() throws Exception {
    Path dir = tmp.resolve("fs/v1");
    Process holder = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), HoldLock.class.getName(),
            dir.toString())
        .redirectErrorStream(true)
        .start();
    try {
      BufferedReader out = new BufferedReader(
          new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine(), is("locked"));
      StoreLock.LockedException e = assertThrows(StoreLock.LockedException.class,
          () -> StoreLock.acquire(dir, "me", false, n -> {}));
      assertThat(e.getMessage(), containsString("pid " + holder.pid() + " "));
      assertThat(e.getMessage(), containsString("held by a child"));
    } finally {
      holder.destroyForcibly(); // SIGKILL: no shutdown hook, no unlock by the owner
      holder.waitFor(30, TimeUnit.SECONDS);
    }
    StoreLock.acquire(dir, "me", false, n -> {}).close();
  }

  @Test
  void aFolderThatCannotBeCreatedIsAnError() throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> StoreLock.acquire(file.resolve("fs/v1"), "me", false, n -> {}));
    assertThat(e.getMessage(), containsString("cannot create " + file.resolve("fs/v1")));
  }

  /** Takes the lock of args[0], says so, and holds it until killed. */
  public static final class HoldLock {
    public static void main(String[] args) throws Exception {
      StoreLock.acquire(Path.of(args[0]), "held by a child", false, n -> {});
      System.out.println("locked");
      System.out.flush();
      Thread.sleep(120_000);
    }
  }
}
