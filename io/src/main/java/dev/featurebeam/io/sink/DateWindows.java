package dev.featurebeam.io.sink;

import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import java.io.Serializable;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The store's daily event-time windows on a stream: as-of date D's window ends at D's closing
 * time C(D) = T(D), D's as-of instant. Feature rows of D are emitted at C(D) - 1 ms, so they fall
 * into D's window, and its panes fire once the watermark has passed C(D): when every event that
 * may count for D has been seen. Lateness is the source's to allow, by holding its watermark back
 * ({@code KafkaSource.withAllowedLateness}), so that every stage closes D at the same time.
 */
final class DateWindows implements Serializable {
  private final AsOf asOf;
  DateWindows(FeatureSpec spec) {
    this.asOf = spec.asOf();
  }

  /** C(D): when the date closes. */
  Instant closing(long epochDay) {
    return new Instant(asOf.instantOfEpochDay(epochDay));
  }

  /** The last instant of D's window. */
  Instant lastInstant(long epochDay) {
    return closing(epochDay).minus(Duration.millis(1));
  }

  /** One day long, ending at each date's closing time. */
  FixedWindows windowFn() {
    return FixedWindows.of(Duration.standardDays(1))
        .withOffset(Duration.millis(Math.floorMod(
            asOf.instantOfEpochDay(0), AsOf.DAY_MILLIS)));
  }

  /** The date whose window this is. */
  long dayOf(IntervalWindow window) {
    return asOf.epochDayOfInstant(window.end().getMillis());
  }
}
