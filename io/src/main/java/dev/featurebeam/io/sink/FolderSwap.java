package dev.featurebeam.io.sink;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Puts a staged folder in the place of a published one so that a reader of the published path
 * always finds one whole folder, the old or the new.
 *
 * <p>Where the system allows it (Linux 3.15+ on ext4, xfs, btrfs, tmpfs), the two folders are
 * exchanged by one {@code renameat2(RENAME_EXCHANGE)}: the published path never disappears, and
 * the old folder ends up at the staged path, to be deleted. Java has no such call, hence JNA.
 * Elsewhere the swap takes two atomic renames (old aside, new in), and for a moment the
 * published path does not exist; a crash between the two leaves the old folder aside, where
 * {@link StoreRecovery} finds it. The system property {@value #PROPERTY}{@code =rename} forces
 * the two renames.
 */
public final class FolderSwap {
  public static final String PROPERTY = "featurebeam.store.swap";

  private static final int AT_FDCWD = -100;
  private static final int RENAME_EXCHANGE = 2;
  private static final Charset PATH_CHARSET =
      Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));

  /** Set once the exchange was refused by this system: the rest of the JVM uses renames. */
  private static volatile boolean exchangeRefused;

  private FolderSwap() {}

  /** How the next swap will be done: "exchange" or "rename". */
  public static String method() {
    return exchangeAvailable() ? "exchange" : "rename";
  }

  /**
   * Moves {@code staged} to {@code published}. If {@code published} exists, the old folder ends up
   * deleted; {@code aside} is where the two-rename swap parks it meanwhile (its parent is created).
   * {@code qualifier} names the swap for {@link StoreFaults}.
   */
  public static void replace(Path staged, Path published, Path aside, String qualifier)
      throws IOException {
    if (!Files.exists(published)) {
      Files.createDirectories(published.getParent());
      Files.move(staged, published, ATOMIC_MOVE);
      return;
    }
    if (exchange(staged, published)) {
      StoreFaults.at(StoreFaults.AFTER_EXCHANGE, qualifier);
      OfflineStore.deleteRecursively(staged); // the old folder
    } else {
      Files.createDirectories(aside.getParent());
      Files.move(published, aside, ATOMIC_MOVE);
      StoreFaults.at(StoreFaults.AFTER_ASIDE, qualifier);
      try {
        Files.move(staged, published, ATOMIC_MOVE);
      } catch (IOException e) {
        Files.move(aside, published, ATOMIC_MOVE); // put the old folder back
        throw e;
      }
      StoreFaults.at(StoreFaults.AFTER_MOVE_IN, qualifier);
      OfflineStore.deleteRecursively(aside);
    }
    StoreFaults.at(StoreFaults.AFTER_CLEANUP, qualifier);
  }

  private static boolean exchangeAvailable() {
    return !exchangeRefused && Platform.isLinux() && !"rename".equals(System.getProperty(PROPERTY));
  }

  /** Exchanges two existing paths atomically; false when this system cannot. */
  private static boolean exchange(Path a, Path b) throws IOException {
    if (!exchangeAvailable()) {
      return false;
    }
    try {
      LibC.INSTANCE.renameat2(AT_FDCWD, cString(a), AT_FDCWD, cString(b), RENAME_EXCHANGE);
      return true;
    } catch (LastErrorException e) {
      int errno = e.getErrorCode();
      if (errno == 22 /* EINVAL: not on this file system */ || errno == 38 /* ENOSYS */
          || errno == 95 /* EOPNOTSUPP */) {
        exchangeRefused = true;
        return false;
      }
      throw new IOException("cannot exchange " + a + " and " + b + ": errno " + errno, e);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) { // no renameat2 in this libc
      exchangeRefused = true;
      return false;
    }
  }

  private static byte[] cString(Path p) {
    byte[] text = p.toAbsolutePath().toString().getBytes(PATH_CHARSET);
    byte[] out = new byte[text.length + 1];
    System.arraycopy(text, 0, out, 0, text.length);
    return out;
  }

  /** The one libc function this needs. */
  private interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int renameat2(int oldDirFd, byte[] oldPath, int newDirFd, byte[] newPath, int flags)
        throws LastErrorException;
  }
}
