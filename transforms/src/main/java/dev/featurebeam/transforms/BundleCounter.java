package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * A Beam counter that a DoFn adds to per element and reports once per bundle, because a metrics
 * update per element costs more than most steps' work on the element. Keep one in a field, call
 * {@link #inc} while processing and {@link #flush} when the bundle finishes:
 *
 * <pre>{@code
 * private final BundleCounter read = BundleCounter.of(Counters.READ);
 *
 * @ProcessElement public void process(...) { read.inc(); ... }
 *
 * @FinishBundle public void finishBundle() { BundleCounter.flush(read); }
 * }</pre>
 *
 * <p>Counts are reported only when a bundle finishes, so a failed bundle reports nothing (a runner
 * discards a DoFn instance whose bundle threw, so its counts never reach the next bundle). Each
 * flush reports, even zero, as a per-bundle {@code Counter.inc(n)} does. Not thread-safe, like the
 * DoFn instance that holds it.
 */
public final class BundleCounter implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Counter counter;
  private transient long pending;

  private BundleCounter(Counter counter) {
    this.counter = counter;
  }

  /** A counter of the {@link Counters#NAMESPACE featurebeam} namespace. */
  public static BundleCounter of(String name) {
    return of(Counters.NAMESPACE, name);
  }

  public static BundleCounter of(String namespace, String name) {
    checkArgument(namespace != null && !namespace.isEmpty(), "a counter needs a namespace");
    checkArgument(name != null && !name.isEmpty(), "a counter needs a name");
    return new BundleCounter(Metrics.counter(namespace, name));
  }

  public void inc() {
    pending++;
  }

  public void inc(long n) {
    pending += n;
  }

  /** Reports what was counted since the last flush, starts again from zero, and returns it. */
  public long flush() {
    long n = pending;
    pending = 0;
    counter.inc(n);
    return n;
  }

  /** The counter's name in its namespace. */
  public String name() {
    return counter.getName().getName();
  }

  /** Flushes each of {@code counters}: the one line of a DoFn's {@code @FinishBundle}. */
  public static void flush(BundleCounter... counters) {
    for (BundleCounter c : counters) {
      c.flush();
    }
  }
}
