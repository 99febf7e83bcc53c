package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;

import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.SpecParser;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

/**
 * {@link InstantWalk} on one hot entity: 20,000 events over three days, almost all on the middle
 * one, asked at 500,000 instants of that day. A walk that rescanned the day's events per
 * instant would do some 10^11 event additions over the 19 features, far past the bound; the walk
 * adds each event a bounded number of times. Every 9,973rd answer is held to a plain scan.
 */
class InstantWalkTest {
  @Test
  void halfAMillionInstantsOverAHotEntityStayLinearAndExact() throws Exception {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    FeaturePlan plan = new FeaturePlan(spec);
    SplittableRandom r = new SplittableRandom(3);
    long day = TrainingSetTest.START + 5 * TrainingSetTest.DAY;
    List<Map<String, Object>> events = TrainingSetTest.randomEvents(r, 20_000);
    for (Map<String, Object> e : events) {
      e.put("user_id", "hot");
      long offset = r.nextInt(10) == 0
          ? r.nextLong(3 * TrainingSetTest.DAY) - TrainingSetTest.DAY
          : r.nextLong(TrainingSetTest.DAY);
      e.put("ts", day + offset);
    }
    List<Row> rows = TrainingSetTest.rows(spec, events);
    rows.sort(Comparator.comparingLong(e -> ((org.joda.time.ReadableInstant) e.getValue(
        spec.fieldIndex(spec.timestamp()))).getMillis()));
    TreeMap<Long, Tile> tiles = new TreeMap<>();
    for (Row e : rows) {
      long ts = ((org.joda.time.ReadableInstant) e.getValue(plan.timestampIndex)).getMillis();
      tiles.computeIfAbsent(Math.floorDiv(ts, FeaturePlan.DAY), d -> new Tile(plan)).add(plan, e);
    }
    long[] days = tiles.keySet().stream().mapToLong(Long::longValue).toArray();
    Tile[] sorted = tiles.values().toArray(new Tile[0]);
    long[] instants = new long[500_000];
    for (int k = 0; k < instants.length; k++) {
      instants[k] = day + r.nextLong(TrainingSetTest.DAY + 1);
    }
    java.util.Arrays.sort(instants);

    long started = System.nanoTime();
    InstantWalk walk = new InstantWalk(plan, days, sorted, rows.toArray(new Row[0]), instants);
    List<Object[]> sampled = new ArrayList<>();
    for (int k = 0; k < instants.length; k++) {
      Agg[] aggs = walk.next();
      if (k % 9973 == 0) {
        Object[] values = new Object[aggs.length];
        for (int i = 0; i < aggs.length; i++) {
          values[i] = aggs[i].result(plan.aggs[i], plan.fieldTypes[i] == FieldType.LONG,
              plan.timestampField[i], instants[k]);
        }
        sampled.add(values);
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("500,000 instants in %.1f s%n", seconds);
    assertThat("seconds for 500,000 instants", seconds, lessThan(120.0));

    for (int s = 0; s < sampled.size(); s++) {
      long t = instants[s * 9973];
      List<FeatureDef> features = spec.features();
      for (int i = 0; i < features.size(); i++) {
        Object expected = NaiveFeatures.value(spec, features.get(i), events, t);
        Object actual = sampled.get(s)[i];
        if (actual instanceof org.joda.time.ReadableInstant) {
          actual = java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) actual)
              .getMillis());
        }
        assertThat(features.get(i).name() + " at " + t, String.valueOf(actual),
            equalTo(String.valueOf(expected)));
      }
    }
  }
}
