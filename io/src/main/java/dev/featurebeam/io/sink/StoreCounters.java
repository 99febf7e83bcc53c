package dev.featurebeam.io.sink;

import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * The Beam counters the offline store reports as it writes, for progress while a run goes on. A
 * namespace of its own: {@code io/} does not see the transforms' counters, and the run report's
 * record counts (namespace {@code featurebeam}) stay what they are.
 */
public final class StoreCounters {
  public static final String NAMESPACE = "featurebeam.store";

  /** Parquet files written into staging, one per (as-of date, shard) of the run. */
  public static final String FILES_STAGED = "files_staged";
  /** Partitions swapped into place (or found published already, byte for byte). */
  public static final String PARTITIONS_PUBLISHED = "partitions_published";
  /** Partitions the quality gate kept out. */
  public static final String PARTITIONS_REJECTED = "partitions_rejected";

  private StoreCounters() {}

  static Counter counter(String name) {
    return Metrics.counter(NAMESPACE, name);
  }
}
