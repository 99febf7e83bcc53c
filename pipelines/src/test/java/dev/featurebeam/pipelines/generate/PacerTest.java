package dev.featurebeam.pipelines.generate;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PacerTest {

  /** Record n goes no earlier than n / rate after the first: evenly spaced, never a burst. */
  @Test
  void everyRecordWaitsForItsOwnSlot() {
    double rate = 400; // 2.5 ms apart
    Pacer pacer = new Pacer(rate);
    int n = 120;
    long[] at = new long[n];
    for (int i = 0; i < n; i++) {
      pacer.await();
      at[i] = System.nanoTime();
    }
    for (int i = 1; i < n; i++) {
      // The first slot starts inside the first await, a few microseconds before at[0].
      double slotMillis = i * 1000 / rate;
      assertThat("record " + i, (at[i] - at[0]) / 1e6, greaterThanOrEqualTo(slotMillis - 0.5));
    }
  }

  @Test
  void withoutARateNothingWaits() {
    Pacer pacer = new Pacer(0);
    long start = System.nanoTime();
    for (int i = 0; i < 100_000; i++) {
      pacer.await();
    }
    assertThat((System.nanoTime() - start) / 1e6, lessThan(1000.0));
  }

  @Test
  void aNegativeOrEndlessRateIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Pacer(-1));
    assertThrows(IllegalArgumentException.class, () -> new Pacer(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new Pacer(Double.POSITIVE_INFINITY));
  }
}
