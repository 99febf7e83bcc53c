package dev.featurebeam.benchmarks;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Fixed128 sums round exactly like FeatureBeam's BigDecimal sums. */
class Fixed128Test {
  private static double viaBigDecimal(double[] values, int from, int to) {
    BigDecimal sum = BigDecimal.ZERO;
    for (int i = from; i < to; i++) {
      sum = sum.add(new BigDecimal(values[i]));
    }
    return sum.doubleValue();
  }

  private static double viaFixed(double[] values, int from, int to) {
    // Prefix sums over all values, then one difference, as PlainJavaFeatures does.
    long[] hi = new long[values.length + 1];
    long[] lo = new long[values.length + 1];
    for (int i = 0; i < values.length; i++) {
      long h = Fixed128.hi(values[i]);
      long l = Fixed128.lo(values[i]);
      hi[i + 1] = Fixed128.addHi(hi[i], lo[i], h, l);
      lo[i + 1] = Fixed128.addLo(lo[i], l);
    }
    return Fixed128.toDouble(Fixed128.subHi(hi[to], lo[to], hi[from], lo[from]),
        Fixed128.subLo(lo[to], lo[from]));
  }

  @Test
  void twoDecimalAmountsSumLikeBigDecimal() {
    SplittableRandom r = new SplittableRandom(1);
    for (int round = 0; round < 2000; round++) {
      int n = 1 + r.nextInt(300);
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        long cents = r.nextInt(4) == 0 ? r.nextLong(100_000_000) : r.nextLong(50_000);
        v[i] = Double.parseDouble(cents / 100 + "." + String.format("%02d", cents % 100));
      }
      int from = r.nextInt(n);
      int to = from + 1 + r.nextInt(n - from);
      assertThat("round " + round, viaFixed(v, from, to), is(viaBigDecimal(v, from, to)));
    }
  }

  @Test
  void anyMultipleOfTwoToTheMinus64SumsLikeBigDecimal() {
    SplittableRandom r = new SplittableRandom(2);
    for (int round = 0; round < 2000; round++) {
      int n = 1 + r.nextInt(50);
      double[] v = new double[n];
      for (int i = 0; i < n; i++) {
        // Mantissas of every width, exponents from 2^-11 to 2^55 (sums stay below 2^63).
        double m = 1 + r.nextDouble();
        v[i] = Math.scalb(m, -11 + r.nextInt(67));
      }
      assertThat("round " + round, viaFixed(v, 0, n), is(viaBigDecimal(v, 0, n)));
    }
  }

  @Test
  void roundsHalfToEvenAtTheLastBit() {
    // 2^53 + 1 is halfway between two doubles: ties to even (2^53); 2^53 + 3 rounds up.
    double big = Math.scalb(1.0, 53);
    assertThat(Fixed128.toDouble((long) big + 1, 0), is(big));
    assertThat(Fixed128.toDouble((long) big + 3, 0), is(big + 4));
    // A fraction below the last bit decides too: 2^53 + 1 + 2^-64 rounds up.
    assertThat(Fixed128.toDouble((long) big + 1, 1), is(big + 2));
    // Only a fraction: 0.5 = 2^63 units.
    assertThat(Fixed128.toDouble(0, Long.MIN_VALUE), is(0.5));
    assertThat(Fixed128.toDouble(Fixed128.hi(12.34), Fixed128.lo(12.34)), is(12.34));
    assertThat(Fixed128.toDouble(0, 0), is(0.0));
  }
}
