package dev.featurebeam.pipelines.generate;

import java.util.concurrent.locks.LockSupport;

/**
 * Spaces records evenly in time: the n-th {@link #await} (from 0) returns no earlier than
 * start + n / rate, where start is the first call. Each record waits for its own slot, so a
 * second's records are spread over that second rather than sent in a burst. A sender that fell
 * behind catches up at once, which keeps the average rate.
 */
final class Pacer {
  private final double nanosPerRecord; // 0: no pacing
  private long start;
  private long count;

  /** {@code rate} records per second; 0 for no pacing. */
  Pacer(double rate) {
    if (!(rate >= 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("rate must be a finite number >= 0: " + rate);
    }
    this.nanosPerRecord = rate == 0 ? 0 : 1e9 / rate;
  }

  /** Blocks until the next record's slot. */
  void await() {
    if (nanosPerRecord == 0) {
      return;
    }
    if (count == 0) {
      start = System.nanoTime();
    }
    long due = start + (long) (count++ * nanosPerRecord);
    for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
      LockSupport.parkNanos(wait);
    }
  }
}
