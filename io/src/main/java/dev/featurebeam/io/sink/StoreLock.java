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
  /** A remote root's own lock file, held with the local one where the store has one (HDFS). */
  private RemoteFs remoteFs;
  private String remoteLock;

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
    return acquire(versionDir, versionDir.toString(), purpose, wait, notices);
  }

  private static StoreLock acquire(
      Path versionDir, String display, String purpose, boolean wait, Consumer<String> notices) {
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
            notices.accept(String.format("lock on %s taken after %.1f s", display,
                (System.nanoTime() - started) / 1e9));
          }
          return taken;
        }
        holder = readOwner(key);
        HELD_IN_THIS_JVM.remove(key, owner);
      }
      String who = describe(holder);
      if (!wait) {
        throw new LockedException(display + " is being written by another run (" + who
            + "); wait for it to finish, or run again without --noWait");
      }
      if (!announced) {
        notices.accept("waiting for another run that writes " + display + " (" + who + ")");
        announced = true;
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the lock on " + display);
      }
    }
  }

  /**
   * The lock of a version folder given as a location: a local path or {@code file://} URI gets
   * the lock above. A remote root ({@code hdfs://…}, {@code s3://…}) gets, first, the same
   * operating-system lock on a local file named after the root's URI, under {@code
   * <java.io.tmpdir>/featurebeam-locks/}, which serializes the runs of this machine (and is
   * released however a run ends); then, where the store can create a file exclusively (HDFS,
   * decided by the namenode), {@code <version dir>/_LOCK} on the store itself, which serializes
   * runs of every machine. That file outlives a killed run: one left by a process of this host
   * that no longer runs is removed; one of another host must be removed by hand once its run is
   * known to be gone. S3 through Beam has no exclusive create, so runs from two machines on one
   * S3 store are not kept apart.
   */
  public static StoreLock acquire(
      String versionDir, String purpose, boolean wait, Consumer<String> notices) {
    if (!StoreLocation.isRemote(versionDir)) {
      return acquire(StoreLocation.localPath(versionDir), purpose, wait, notices);
    }
    Path keyDir = Path.of(System.getProperty("java.io.tmpdir"), "featurebeam-locks",
        OfflineStore.sha256(versionDir.getBytes(StandardCharsets.UTF_8)).substring(0, 32));
    StoreLock local = acquire(keyDir, versionDir, purpose, wait, notices);
    try {
      RemoteFs fs = StoreLocation.fs(versionDir);
      String file = StoreLocation.join(versionDir, FILE);
      String owner = ownerJson(purpose);
      boolean announced = false;
      while (true) {
        boolean created;
        try {
          created = fs.createExclusive(file, (owner + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (UnsupportedOperationException e) {
          return local; // this machine's lock is all there is
        }
        if (created) {
          local.remoteFs = fs;
          local.remoteLock = file;
          return local;
        }
        String holder = new String(fs.read(file), StandardCharsets.UTF_8).strip();
        if (leftByDeadProcessHere(holder)) {
          fs.delete(file);
          notices.accept("removed " + file + ", left by a run that no longer runs ("
              + describe(holder) + ")");
          continue;
        }
        String who = describe(holder);
        if (!wait) {
          throw new LockedException(versionDir + " is being written by another run (" + who
              + "); wait for it to finish, or run again without --noWait; if that run is gone,"
              + " delete " + file);
        }
        if (!announced) {
          notices.accept("waiting for another run that writes " + versionDir + " (" + who
              + "); if that run is gone, delete " + file);
          announced = true;
        }
        Thread.sleep(POLL_MS);
      }
    } catch (IOException e) {
      local.close();
      throw new UncheckedIOException("cannot lock " + versionDir + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      local.close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the lock on " + versionDir);
    } catch (RuntimeException e) {
      local.close();
      throw e;
    }
  }

  /**
   * An owner of this host whose process has ended (or whose pid now belongs to a process started
   * after the lock was taken). The caller holds this machine's lock, so no live run here can be
   * the owner.
   */
  static boolean leftByDeadProcessHere(String ownerJson) {
    try {
      JsonNode o = JSON.readTree(ownerJson);
      if (!o.get("host").asText().equals(hostName())) {
        return false;
      }
      Instant started = Instant.parse(o.get("started").asText());
      return ProcessHandle.of(o.get("pid").asLong())
          .map(p -> p.info().startInstant().map(s -> s.isAfter(started.plusSeconds(1)))
              .orElse(false))
          .orElse(true);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
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
    owner.put("host", hostName());
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
    if (remoteLock != null) {
      try {
        remoteFs.delete(remoteLock);
      } catch (IOException e) {
        System.err.println("featurebeam: cannot remove the lock " + remoteLock + ": "
            + e.getMessage() + "; delete it by hand");
      }
      remoteLock = null;
    }
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
