package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.comparesEqualTo;
import static org.hamcrest.Matchers.is;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ExactSumTest {
  /** A double of a random kind: amounts, tiny and huge magnitudes, negatives, zeros. */
  private static double randomDouble(SplittableRandom r) {
    switch (r.nextInt(6)) {
      case 0: return r.nextInt(1_000_000) / 100.0;
      case 1: return -r.nextInt(1_000_000) / 100.0;
      case 2: return Math.scalb(r.nextDouble() - 0.5, r.nextInt(-1074, 1024));
      case 3: return r.nextBoolean() ? 0.0 : -0.0;
      case 4: return Math.scalb(r.nextDouble(), 995 + r.nextInt(28)); // around the limit
      default: return r.nextDouble() * 1e16;
    }
  }

  @Test
  void sumsAreExactInAnyOrderAndRoundLikeBigDecimal() {
    SplittableRandom r = new SplittableRandom(7);
    for (int trial = 0; trial < 2_000; trial++) {
      ExactSum a = new ExactSum();
      ExactSum b = new ExactSum();
      BigDecimal expected = BigDecimal.ZERO;
      int n = r.nextInt(1, 40);
      for (int i = 0; i < n; i++) {
        ExactSum target = r.nextBoolean() ? a : b;
        if (r.nextInt(4) == 0) {
          long v = r.nextLong();
          target.add(v);
          expected = expected.add(BigDecimal.valueOf(v));
        } else {
          double v = trial % 3 == 0 ? randomDouble(r) : r.nextInt(100_000) / 100.0;
          target.add(v);
          expected = expected.add(new BigDecimal(v));
        }
      }
      ExactSum merged = a.copy();
      merged.add(b);
      assertThat(merged.toBigDecimal(), comparesEqualTo(expected));
      assertThat(merged.doubleValue(), is(expected.doubleValue()));
      assertThat(merged.longValue(), is(expected.longValue()));
      // copy() is independent of the original.
      ExactSum before = a.copy();
      a.add(1.5);
      assertThat(before.toBigDecimal().add(new BigDecimal(1.5)), comparesEqualTo(a.toBigDecimal()));
    }
  }

  @Test
  void zeroIsPositiveAndAHugeSumStaysExact() {
    ExactSum zero = new ExactSum();
    zero.add(-0.0);
    assertThat(Double.doubleToRawLongBits(zero.doubleValue()), is(0L));
    ExactSum huge = new ExactSum();
    huge.add(Double.MAX_VALUE);
    huge.add(Double.MAX_VALUE);
    huge.add(-Double.MAX_VALUE);
    assertThat(huge.doubleValue(), is(Double.MAX_VALUE));
  }
}
