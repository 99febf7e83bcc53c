package dev.featurebeam.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The first event time a source must deliver: the windows' reach, then the dedup horizon. */
class AsOfRangeTest {
  private static final String KEYED = KeepEventsInRangeTest.HEAD + "dedup_key: id\n";
  private static final String SCHEMA = KeepEventsInRangeTest.SCHEMA
      + "  id:      {type: string}\n";
  private static final String WINDOWED = "features:\n  - {name: c_7d, agg: count, window: 7d}\n";

  private static long at(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  @Test
  void firstNeededIsTheFirstUsefulLessDedupWithin() {
    AsOfRange range = KeepEventsInRangeTest.RANGE; // 2025-01-10 .. 2025-01-12, end_of_day
    assertThat(range.firstNeededMillis(KeepEventsInRangeTest.WINDOWED),
        is(at("2025-01-04T00:00:00Z")));
    FeatureSpec within = SpecParser.parse(KEYED + "dedup_within: 2d\n" + SCHEMA + WINDOWED);
    assertThat(range.firstUsefulMillis(within), is(at("2025-01-04T00:00:00Z")));
    assertThat(range.firstNeededMillis(within), is(at("2025-01-02T00:00:00Z")));
    // An unbounded dedup horizon, or a whole-history feature: everything is needed.
    FeatureSpec unboundedDedup = SpecParser.parse(KEYED + SCHEMA + WINDOWED);
    assertThat(range.firstNeededMillis(unboundedDedup), is(Long.MIN_VALUE));
    assertThat(range.firstNeededMillis(KeepEventsInRangeTest.UNBOUNDED), is(Long.MIN_VALUE));
  }
}
