package dev.featurebeam.transforms.features;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Arrays;

/**
 * The exact sum of doubles and longs, mutable. Kept as Shewchuk's non-overlapping partials (the
 * algorithm of Python's {@code math.fsum}): each addition is a few double operations, and the sum
 * of the partials is exactly the sum of every value added, in any order. Past {@link #LIMIT} it
 * switches to a {@link BigDecimal}, where doubles could overflow.
 *
 * <p>Why not a {@code BigDecimal} throughout: windows add up to a month of daily sums for every
 * row, and a {@code BigDecimal} addition of exact double expansions allocates and costs many times
 * a few double operations. The results are computed from the same exact value, so they do not
 * change by a bit.
 */
final class ExactSum implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Partials stay below 2^1000, so two of them add without overflow. */
  static final double LIMIT = 0x1p1000;

  /** Non-overlapping, in increasing magnitude; the exact sum is their sum. */
  double[] partials;
  int size;
  /** The sum once a value or partial reached {@link #LIMIT}; then partials are unused. */
  BigDecimal big;

  ExactSum() {
    partials = new double[4];
  }

  /** A sum read back by {@link TileCoder}. */
  ExactSum(double[] partials, int size, BigDecimal big) {
    this.partials = partials;
    this.size = size;
    this.big = big;
  }

  ExactSum copy() {
    return new ExactSum(Arrays.copyOf(partials, Math.max(size, 4)), size, big);
  }

  void add(double x) {
    if (big != null || Math.abs(x) >= LIMIT
        || (size > 0 && Math.abs(partials[size - 1]) >= LIMIT)) {
      big = toBigDecimal().add(new BigDecimal(x));
      size = 0;
      return;
    }
    int kept = 0;
    for (int j = 0; j < size; j++) {
      double y = partials[j];
      if (Math.abs(x) < Math.abs(y)) {
        double t = x;
        x = y;
        y = t;
      }
      double hi = x + y;
      double lo = y - (hi - x);
      if (lo != 0.0) {
        partials[kept++] = lo;
      }
      x = hi;
    }
    if (kept == partials.length) {
      partials = Arrays.copyOf(partials, kept * 2);
    }
    partials[kept++] = x;
    size = kept;
  }

  /** Adds a long exactly: as two doubles of at most 32 significant bits each. */
  void add(long v) {
    long low = v & 0xFFFF_FFFFL;
    add((double) (v - low));
    add((double) low);
  }

  void add(ExactSum other) {
    if (other.big != null) {
      big = toBigDecimal().add(other.big);
      size = 0;
      return;
    }
    for (int i = 0; i < other.size; i++) {
      add(other.partials[i]);
    }
  }

  BigDecimal toBigDecimal() {
    if (big != null) {
      return big;
    }
    BigDecimal sum = BigDecimal.ZERO;
    for (int i = 0; i < size; i++) {
      sum = sum.add(new BigDecimal(partials[i]));
    }
    return sum;
  }

  /** The sum rounded once to the nearest double, as {@code toBigDecimal().doubleValue()}. */
  double doubleValue() {
    if (big == null && size <= 1) {
      // One partial is the exact sum; no partial or -0.0 is zero, which BigDecimal makes +0.0.
      return size == 0 || partials[0] == 0.0 ? 0.0 : partials[0];
    }
    return toBigDecimal().doubleValue();
  }

  long longValue() {
    return toBigDecimal().longValue();
  }

  /** The exact value, e.g. for tests comparing aggregates. */
  @Override
  public String toString() {
    return toBigDecimal().toPlainString();
  }
}
