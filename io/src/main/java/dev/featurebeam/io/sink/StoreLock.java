package dev.featurebeam.io.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The one-writer lock of a (store, feature set, version): an operating-system lock on the file
 * {@code <version dir>/_LOCK}, which also holds its owner (host, process id, start time, what it
 * runs) while it is held, for the messages of runs that wait. The system releases the lock when its process ends,
 * however it ends, so a crashed run never leaves a stale lock behind.
 *
 * <p>Runs in one JVM are ordered by this class before they touch the file: a POSIX lock belongs
 * to the process, and closing any channel on the file would release it for the whole JVM.
 *
 * <pre>{@code
 * try (StoreLock lock = StoreLock.acquire(versionDir, "batch 2025-02-01..2025-02-28", true, System.err::println)) {
 *   StoreRecovery.recover(versionDir);
 *   pipeline.run().waitUntilFinish();
 * }
 * }</pre>
 */
public final class StoreLock implements AutoCloseable {
  public static final String FILE = "_LOCK";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<Path, String> HELD_IN_THIS_JVM = new ConcurrentHashMap<>();
  private static final long POLL_MS = 200;

  /** Thrown when another run holds the lock and the caller would not wait. */
  public static final class LockedException extends IllegalStateException {
    LockedException(String message) {
      super(message);
    }
  }

  private final Path key;
  private final FileChannel channel;
  private final FileLock lock;

  private StoreLock(Path key, FileChannel channel, FileLock lock) {
    this.key = key;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock of {@code versionDir} (created if missing), waiting for another run to finish
   * when {@code wait}, else failing at once with {@link LockedException}; {@code notices} hears
   * once that the run waits, and for whom.
   *
   * @throws UncheckedIOException when the folder cannot be created or locked (e.g. read-only)
   */
  public static StoreLock acquire(
      Path versionDir, String purpose, boolean wait, Consumer<String> notices) {
    Path key;
    try {
      Files.createDirectories(versionDir);
      key = versionDir.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + versionDir + ": " + e.getMessage(), e);
    }
    String owner = ownerJson(purpose);
    long started = System.nanoTime();
    boolean announced = false;
    while (true) {
      String holder;
      if (HELD_IN_THIS_JVM.putIfAbsent(key, owner) != null) {
        holder = HELD_IN_THIS_JVM.get(key);
      } else {
        StoreLock taken = tryLock(key, owner);
        if (taken != null) {
          if (announced) {
            notices.accept(String.format("lock on %s taken after %.1f s", versionDir,
                (System.nanoTime() - started) / 1e9));
          }
          return taken;
        }
        holder = readOwner(key);
        HELD_IN_THIS_JVM.remove(key, owner);
      }
      String who = describe(holder);
      if (!wait) {
        throw new LockedException(versionDir + " is being written by another run (" + who
            + "); wait for it to finish, or run again without --noWait");
      }
      if (!announced) {
        notices.accept("waiting for another run that writes " + versionDir + " (" + who + ")");
        announced = true;
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the lock on " + versionDir);
      }
    }
  }

  /** The lock, or null when another process holds it (this JVM's reservation is the caller's). */
  private static StoreLock tryLock(Path key, String owner) {
    FileChannel channel = null;
    try {
      channel = FileChannel.open(key.resolve(FILE), StandardOpenOption.CREATE,
          StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        channel.close();
        return null;
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((owner + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(false);
      return new StoreLock(key, channel, lock);
    } catch (IOException e) {
      HELD_IN_THIS_JVM.remove(key, owner);
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // the open failed or the lock did; report that
        }
      }
      throw new UncheckedIOException("cannot lock " + key.resolve(FILE) + ": " + e.getMessage(), e);
    }
  }

  /** What the lock file says of its owner; read only when another process holds the lock. */
  private static String readOwner(Path key) {
    try {
      return Files.readString(key.resolve(FILE), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static String ownerJson(String purpose) {
    Map<String, Object> owner = new LinkedHashMap<>();
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "unknown";
    }
    owner.put("host", host);
    owner.put("pid", ProcessHandle.current().pid());
    owner.put("started", Instant.now().toString());
    owner.put("run", purpose);
    try {
      return JSON.writeValueAsString(owner);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** "pid 123 on host h, started 2026-12-02T10:00:00Z (12 s ago): batch 2025-02-01..2025-02-28". */
  static String describe(String ownerJson) {
    try {
      JsonNode o = JSON.readTree(ownerJson);
      Instant started = Instant.parse(o.get("started").asText());
      long ago = Duration.between(started, Instant.now()).toSeconds();
      return "pid " + o.get("pid").asLong() + " on host " + o.get("host").asText() + ", started "
          + started + " (" + ago + " s ago): " + o.get("run").asText();
    } catch (IOException | RuntimeException e) {
      return "owner unknown";
    }
  }

  /** Releases the lock, leaving the file empty: a store's bytes never name a past run. */
  @Override
  public void close() {
    try {
      channel.truncate(0);
      lock.release();
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot release " + key.resolve(FILE), e);
    } finally {
      HELD_IN_THIS_JVM.remove(key);
    }
  }
}
