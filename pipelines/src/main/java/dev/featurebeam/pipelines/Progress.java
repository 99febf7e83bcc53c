package dev.featurebeam.pipelines;

import dev.featurebeam.transforms.LocalProgress;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress line on standard error for runs longer than a few seconds: elapsed time, records
 * read, tiles and feature rows so far (from {@link LocalProgress}, so only with an embedded
 * runner), and the stage those numbers imply. Redraws in place on a terminal; otherwise prints a
 * line every 10 seconds.
 */
final class Progress implements AutoCloseable {
  private static final long FIRST_MS = 3_000;

  private final Thread thread;
  private volatile boolean done;

  private Progress(boolean enabled, PrintStream err) {
    boolean terminal = System.console() != null;
    long start = System.currentTimeMillis();
    thread = new Thread(() -> {
      boolean printed = false;
      try {
        Thread.sleep(FIRST_MS);
        while (!done) {
          String line = line((System.currentTimeMillis() - start) / 1000.0);
          if (terminal) {
            err.print("\r" + line);
          } else {
            err.println(line);
          }
          printed = true;
          Thread.sleep(terminal ? 1_000 : 10_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (printed && terminal) {
        err.println();
      }
    }, "featurebeam-progress");
    thread.setDaemon(true);
    if (enabled) {
      thread.start();
    }
  }

  static Progress start(boolean enabled) {
    return new Progress(enabled, System.err);
  }

  static String line(double seconds) {
    long read = LocalProgress.READ.sum();
    long tiles = LocalProgress.TILES.sum();
    long rows = LocalProgress.ROWS.sum();
    String stage = rows > 0 ? "computing feature rows" : tiles > 0 ? "aggregating daily tiles"
        : read > 0 ? "reading and validating" : "starting";
    return String.format(Locale.ROOT, "[%6.1f s] %-24s read %,d  tiles %,d  rows %,d",
        seconds, stage, read, tiles, rows);
  }

  @Override
  public void close() {
    done = true;
    thread.interrupt();
    try {
      thread.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
