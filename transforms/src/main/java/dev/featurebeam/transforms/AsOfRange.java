package dev.featurebeam.transforms;

import com.google.auto.value.AutoValue;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import java.io.Serializable;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * The as-of dates one run computes: {@code from .. to} inclusive (epoch days). A stream has no
 * last date: {@link #openEnded}.
 */
@AutoValue
public abstract class AsOfRange implements Serializable {
  public abstract long fromDay();

  /** Inclusive; {@link Long#MAX_VALUE} for an open-ended (streaming) run. */
  public abstract long toDay();

  public static AsOfRange of(LocalDate from, LocalDate to) {
    if (to.isBefore(from)) {
      throw new IllegalArgumentException("--to " + to + " is before --from " + from);
    }
    return new AutoValue_AsOfRange(from.toEpochDay(), to.toEpochDay());
  }

  public static AsOfRange single(LocalDate date) {
    return of(date, date);
  }

  public static AsOfRange openEnded(LocalDate from) {
    return new AutoValue_AsOfRange(from.toEpochDay(), Long.MAX_VALUE);
  }

  public boolean isOpenEnded() {
    return toDay() == Long.MAX_VALUE;
  }

  public boolean contains(long epochDay) {
    return epochDay >= fromDay() && epochDay <= toDay();
  }

  /** Every as-of date of a bounded range, in order. */
  public List<Long> days() {
    if (isOpenEnded()) {
      throw new IllegalStateException("an open-ended range has no list of days");
    }
    List<Long> out = new ArrayList<>();
    for (long d = fromDay(); d <= toDay(); d++) {
      out.add(d);
    }
    return out;
  }

  /** The earliest event time any feature of the run can read, or Long.MIN_VALUE (whole history). */
  public long firstUsefulMillis(FeatureSpec spec) {
    long lookback = spec.lookbackMillis();
    long first = spec.asOf().instantOfEpochDay(fromDay());
    return lookback == Long.MAX_VALUE ? Long.MIN_VALUE : first - lookback;
  }

  /**
   * The earliest event time a source must deliver for the run's rows to be complete: {@link
   * #firstUsefulMillis}, less {@code dedup_within} with a dedup key (an earlier copy within it can
   * drop a useful one), or Long.MIN_VALUE (whole history, or an unbounded dedup horizon).
   */
  public long firstNeededMillis(FeatureSpec spec) {
    long first = firstUsefulMillis(spec);
    if (first == Long.MIN_VALUE || spec.dedupKey() == null) {
      return first;
    }
    Long within = spec.dedupWithinMillis();
    return within == null ? Long.MIN_VALUE : first - within;
  }

  /** Events at or after this instant are never used (the last as-of instant), or Long.MAX_VALUE. */
  public long endMillis(AsOf asOf) {
    return isOpenEnded() ? Long.MAX_VALUE : asOf.instantOfEpochDay(toDay());
  }

  @Override
  public String toString() {
    return isOpenEnded()
        ? LocalDate.ofEpochDay(fromDay()) + ".."
        : LocalDate.ofEpochDay(fromDay()) + ".." + LocalDate.ofEpochDay(toDay());
  }
}
