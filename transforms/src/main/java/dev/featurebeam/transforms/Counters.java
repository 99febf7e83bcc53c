package dev.featurebeam.transforms;

import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * The Beam metrics every stage reports. The run report reads them back by these names; together
 * they state {@code read = valid + duplicates + quarantined + out_of_range + blank}.
 */
public final class Counters {
  public static final String NAMESPACE = "featurebeam";
  /** Per-reason quarantine counters live in this namespace, named by the reason code. */
  public static final String QUARANTINE_NAMESPACE = "featurebeam.quarantine";

  public static final String READ = "read";
  /** Blank lines of a text source: read, and dropped by validation. */
  public static final String BLANK = "blank";
  public static final String QUARANTINED = "quarantined";
  public static final String DUPLICATES_EXACT = "duplicates_exact";
  public static final String DUPLICATES_CONFLICTING = "duplicates_conflicting";
  public static final String OUT_OF_RANGE = "out_of_range";
  public static final String VALID = "valid";
  public static final String TILES = "tiles";
  public static final String LATE_TILES = "late_tiles";
  /** Records quarantined because they came after their as-of date closed (streams only). */
  public static final String LATE = "late";
  public static final String FEATURE_ROWS = "feature_rows";

  private static final Counter QUARANTINED_COUNTER = counter(QUARANTINED);

  private Counters() {}

  public static Counter counter(String name) {
    return Metrics.counter(NAMESPACE, name);
  }

  public static Counter quarantine(String reason) {
    return Metrics.counter(QUARANTINE_NAMESPACE, reason);
  }

  /** Counts one quarantined record: in {@link #QUARANTINED} and under its reason. */
  public static void countQuarantined(String reason) {
    QUARANTINED_COUNTER.inc();
    quarantine(reason).inc();
  }
}
