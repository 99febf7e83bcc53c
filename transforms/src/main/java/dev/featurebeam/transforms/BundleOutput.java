package dev.featurebeam.transforms;

import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;

/**
 * Where a DoFn emits what it gathered over a bundle (a buffer of values, or partial aggregates by
 * key): from {@code @ProcessElement} through its receiver when the buffer is full, and from
 * {@code @FinishBundle} for the rest. One emitting method serves both:
 *
 * <pre>{@code
 * @ProcessElement public void process(..., OutputReceiver<T> out) {
 *   ... if (full) { emit(BundleOutput.of(out)); }
 * }
 *
 * @FinishBundle public void finishBundle(FinishBundleContext context) {
 *   emit(BundleOutput.atEndOfGlobalWindow(context));
 * }
 * }</pre>
 *
 * <p>A finishing bundle has no current element, so its output needs a window and a timestamp:
 * {@link #atEndOfGlobalWindow} emits into the global window at its end, which is right only for a
 * step whose input is in the global window and whose output timestamps do not matter.
 *
 * @param <T> the emitted values' type
 */
@FunctionalInterface
public interface BundleOutput<T> {
  void output(T value);

  /** Emits through a {@code @ProcessElement} method's receiver, at the current element's time. */
  static <T> BundleOutput<T> of(DoFn.OutputReceiver<T> receiver) {
    return receiver::output;
  }

  /** Emits from {@code @FinishBundle} into the global window, at its end. */
  static <T> BundleOutput<T> atEndOfGlobalWindow(DoFn<?, T>.FinishBundleContext context) {
    return value -> context.output(value, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
  }
}
