package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.StoreCounters;
import dev.featurebeam.transforms.Counters;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;
import org.apache.beam.sdk.metrics.MetricQueryResults;

/**
 * A progress line on standard error for runs longer than a few seconds: elapsed time, the stage,
 * and the job's counters from the stages through to publishing (records read, valid, tiles,
 * feature rows, files staged, partitions published), read from the running job's Beam metrics
 * ({@link LiveMetrics}). Redraws in place on a terminal; otherwise prints a line every 10 seconds.
 * When it has printed anything, it prints the final numbers at the end unless its last line has them.
 */
final class Progress implements AutoCloseable {
  static final long FIRST_MS = 3_000;
  static final long TERMINAL_MS = 1_000;
  static final long LINE_MS = 10_000;

  /** What a line shows, from the counters so far. */
  interface Line {
    String format(double seconds, ProgressSink counters);
  }

  private final ProgressSink sink = new ProgressSink();
  private final Line format;
  private final PrintStream err;
  private final boolean terminal;
  private final long start = System.currentTimeMillis();
  private final Thread thread;
  private volatile boolean done;
  private boolean printed;
  private int lastLength;
  private String lastNumbers = "";

  private Progress(boolean enabled, PrintStream err, boolean terminal, long dates, long files,
      Supplier<MetricQueryResults> source, long firstMs, long everyMs) {
    this(enabled, err, terminal, (seconds, s) -> line(seconds, s, dates, files), source, firstMs,
        everyMs);
  }

  private Progress(boolean enabled, PrintStream err, boolean terminal, Line format,
      Supplier<MetricQueryResults> source, long firstMs, long everyMs) {
    this.format = format;
    this.err = err;
    this.terminal = terminal;
    thread = new Thread(() -> {
      try {
        Thread.sleep(firstMs);
        while (!done) {
          MetricQueryResults now = source.get();
          if (now != null) {
            sink.writeMetrics(now);
          }
          print(false);
          Thread.sleep(everyMs);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "featurebeam-progress");
    thread.setDaemon(true);
    if (enabled) {
      thread.start();
    }
  }

  /**
   * Starts the line for a run of {@code dates} as-of dates and {@code files} Parquet files, polling
   * {@code source} (null while there is nothing to read).
   */
  static Progress start(boolean enabled, PrintStream err, long dates, long files,
      Supplier<MetricQueryResults> source) {
    boolean terminal = System.console() != null;
    return new Progress(enabled, err, terminal, dates, files, source, FIRST_MS,
        terminal ? TERMINAL_MS : LINE_MS);
  }

  /** A line of the caller's own, e.g. a stream's, polling {@code source}. */
  static Progress start(boolean enabled, PrintStream err, Line format,
      Supplier<MetricQueryResults> source) {
    boolean terminal = System.console() != null;
    return new Progress(enabled, err, terminal, format, source, FIRST_MS,
        terminal ? TERMINAL_MS : LINE_MS);
  }

  /** For tests: no terminal, and the given delays. */
  static Progress startForTest(PrintStream err, long dates, long files,
      Supplier<MetricQueryResults> source, long firstMs, long everyMs) {
    return new Progress(true, err, false, dates, files, source, firstMs, everyMs);
  }

  /** The job's final results: the last line shows them. */
  void finish(MetricQueryResults results) {
    if (results != null) {
      sink.writeMetrics(results);
    }
  }

  private synchronized void print(boolean unlessUnchanged) {
    String line = format.format((System.currentTimeMillis() - start) / 1000.0, sink);
    String numbers = line.substring(line.indexOf(']'));
    if (unlessUnchanged && !terminal && numbers.equals(lastNumbers)) {
      return; // the last line already shows the final numbers
    }
    lastNumbers = numbers;
    if (terminal) {
      // Spaces over what a longer previous line left on the screen.
      err.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
      err.flush();
      lastLength = line.length();
    } else {
      err.println(line);
    }
    printed = true;
  }

  static String line(double seconds, ProgressSink s, long dates, long files) {
    long read = s.stage(Counters.READ);
    long valid = s.stage(Counters.VALID);
    long tiles = s.stage(Counters.TILES);
    long rows = s.stage(Counters.FEATURE_ROWS);
    long staged = s.store(StoreCounters.FILES_STAGED);
    long published = s.store(StoreCounters.PARTITIONS_PUBLISHED);
    long rejected = s.store(StoreCounters.PARTITIONS_REJECTED);
    // The furthest stage that has reported: on Flink a stage reports as its instances finish, so
    // the one after it is what runs now.
    String stage = dates > 0 && published + rejected >= dates ? "finishing"
        : published + rejected > 0 || (files > 0 && staged >= files) ? "publishing"
        : rows > 0 || staged > 0 ? "writing"
        : valid > 0 || tiles > 0 ? "aggregating"
        : read > 0 ? "de-duplicating"
        : "reading";
    return String.format(Locale.ROOT,
        "[%6.1f s] %-14s read %,d  valid %,d  tiles %,d  rows %,d  staged %,d/%,d  published %,d/%,d%s",
        seconds, stage, read, valid, tiles, rows, staged, files, published, dates,
        rejected > 0 ? String.format(Locale.ROOT, "  rejected %,d", rejected) : "");
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
    synchronized (this) {
      if (printed) {
        print(true);
        if (terminal) {
          err.println();
        }
      }
    }
  }
}
