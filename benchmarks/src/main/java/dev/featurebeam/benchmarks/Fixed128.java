package dev.featurebeam.benchmarks;

/**
 * Exact sums of non-negative doubles as 128-bit fixed-point numbers with 64 fraction bits, kept in
 * two longs ({@code hi} = the integer part, {@code lo} = the fraction as an unsigned long).
 *
 * <p>FeatureBeam sums the exact binary values of the doubles ({@code new BigDecimal(double)}) and
 * rounds the total once. Every double that is a multiple of 2^-64 and below 2^63 is exact here
 * (every amount from about 0.0005 up, so every amount with two decimals); a finer one is rounded to
 * the nearest 2^-64 (half even), as DuckDB's {@code (amount * 2^64)::HUGEINT} does. Additions and
 * subtractions are exact, so window sums can be prefix-sum differences; {@link #toDouble} rounds
 * once, to the nearest double, ties to even, like {@code BigDecimal.doubleValue()}.
 */
final class Fixed128 {
  private Fixed128() {}

  private static final double TWO_63 = 0x1p63;

  /** The integer part of {@code a} (a finite double in [0, 2^63)). */
  static long hi(double a) {
    long hi = (long) Math.floor(a);
    return loRoundsUp(a) ? hi + 1 : hi;
  }

  /** The fraction of {@code a} in units of 2^-64, as an unsigned long. */
  static long lo(double a) {
    if (loRoundsUp(a)) {
      return 0;
    }
    double f = Math.rint(Math.scalb(a - Math.floor(a), 64));
    return f >= TWO_63 ? (long) (f - TWO_63) + Long.MIN_VALUE : (long) f;
  }

  /** Whether the fraction rounds up to a whole 2^64 units (only for doubles finer than 2^-64). */
  private static boolean loRoundsUp(double a) {
    return Math.rint(Math.scalb(a - Math.floor(a), 64)) >= 0x1p64;
  }

  /** Whether {@code a} can be added: finite, not negative and below 2^63. */
  static boolean fits(double a) {
    return a >= 0 && a < TWO_63;
  }

  /** hi of (aHi, aLo) + (bHi, bLo). */
  static long addHi(long aHi, long aLo, long bHi, long bLo) {
    long lo = aLo + bLo;
    return aHi + bHi + (Long.compareUnsigned(lo, aLo) < 0 ? 1 : 0);
  }

  static long addLo(long aLo, long bLo) {
    return aLo + bLo;
  }

  /** hi of (aHi, aLo) - (bHi, bLo). */
  static long subHi(long aHi, long aLo, long bHi, long bLo) {
    return aHi - bHi - (Long.compareUnsigned(aLo, bLo) < 0 ? 1 : 0);
  }

  static long subLo(long aLo, long bLo) {
    return aLo - bLo;
  }

  /** The nearest double (ties to even) to hi + lo * 2^-64, for hi >= 0. */
  static double toDouble(long hi, long lo) {
    if (hi < 0) {
      throw new ArithmeticException("negative fixed-point sum");
    }
    if (hi == 0) {
      if (lo >= 0) {
        return Math.scalb((double) lo, -64); // long -> double rounds to nearest, ties to even
      }
      // An unsigned lo >= 2^63: halve it, keeping the dropped bit as a sticky bit (it lies far
      // below the rounding position, so the rounding is still correct).
      return Math.scalb((double) ((lo >>> 1) | (lo & 1)), -63);
    }
    int n = 64 - Long.numberOfLeadingZeros(hi); // bits in hi, 1..63
    int drop = n + 1; // keep the top 63 bits of the 64 + n bit number
    long top = (hi << (63 - n)) | (drop == 64 ? 0 : lo >>> drop);
    long droppedMask = drop == 64 ? -1L : (1L << drop) - 1;
    if ((lo & droppedMask) != 0) {
      top |= 1; // sticky
    }
    return Math.scalb((double) top, drop - 64);
  }
}
