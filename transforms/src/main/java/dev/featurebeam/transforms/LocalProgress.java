package dev.featurebeam.transforms;

import java.util.concurrent.atomic.LongAdder;

/**
 * Live counts for the terminal's progress line. Beam metrics are read back only when a pipeline
 * has finished (Flink's local mode returns from {@code run()} at the end), so the steps also bump
 * these in-process adders; with an embedded runner (Direct, Flink local) the command line reads
 * them while the job runs. On a cluster they stay at zero and progress shows elapsed time only.
 */
public final class LocalProgress {
  public static final LongAdder READ = new LongAdder();
  public static final LongAdder TILES = new LongAdder();
  public static final LongAdder ROWS = new LongAdder();

  private LocalProgress() {}

  public static void reset() {
    READ.reset();
    TILES.reset();
    ROWS.reset();
  }
}
