package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.Coder.NonDeterministicException;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/** Tiles and histories survive their coders with every aggregate intact. */
class TileCoderTest {
  static final FeatureSpec SPEC = SpecParser.parse(FeatureCorrectnessTest.ALL_AGGS);

  @Test
  void aTileRoundTripsEveryAggregate() throws Exception {
    FeaturePlan plan = new FeaturePlan(SPEC);
    Tile tile = new Tile(plan);
    for (Map<String, Object> e : FeatureCorrectnessTest.randomEvents(3, 40)) {
      long ts = (Long) e.get("ts");
      e.put("ts", Math.floorMod(ts, FeaturePlan.DAY) + 20_000 * FeaturePlan.DAY); // one day
      tile.add(plan, row(e));
    }
    tile.full[0].lastTie = "x".repeat(70_000); // longer than DataOutput.writeUTF allows
    // amt_sum_7d past the partials' range, as a BigDecimal; amt_avg_3d stays in partials.
    tile.full[2].sum.add(Double.MAX_VALUE);
    assertThat(tile.full[2].sum.big, notNullValue());
    assertThat(tile.full[3].sum.big, nullValue());
    Tile copy = CoderUtils.clone(TileCoder.of(), tile);
    assertThat(describe(plan, copy), equalTo(describe(plan, tile)));
  }

  @Test
  void aHistoryRoundTripsItsTilesAndFoldedPart() throws Exception {
    FeaturePlan plan = new FeaturePlan(SPEC);
    EntityHistory h = new EntityHistory();
    for (Map<String, Object> e : FeatureCorrectnessTest.randomEvents(5, 30)) {
      Tile t = new Tile(plan);
      t.add(plan, row(e));
      h.add(plan, t);
    }
    h.foldBefore(plan, h.tiles.firstKey() + 10);
    EntityHistory copy = CoderUtils.clone(TileCoder.HistoryCoder.of(), h);
    assertThat(copy.foldedBefore, equalTo(h.foldedBefore));
    assertThat(copy.tiles.keySet(), equalTo(h.tiles.keySet()));
    long asOf = (h.tiles.lastKey() + 1) * FeaturePlan.DAY;
    for (int i = 0; i < plan.size(); i++) {
      assertThat(copy.window(plan, i, asOf).result(plan.aggs[i], false, false, asOf),
          equalTo(h.window(plan, i, asOf).result(plan.aggs[i], false, false, asOf)));
    }
    assertThat(new EntityHistory().folded, nullValue());
  }

  @Test
  void theCodersSayTheyAreNotDeterministicAndWhy() throws Exception {
    // Equal distinct sets built another way iterate in another order, so encode differently.
    Tile a = oneDistinctSet(new HashSet<>(16));
    Tile b = oneDistinctSet(new HashSet<>(64));
    assertThat(a.full[0].distinct, equalTo(b.full[0].distinct));
    assertThat(CoderUtils.encodeToByteArray(TileCoder.of(), a),
        not(equalTo(CoderUtils.encodeToByteArray(TileCoder.of(), b))));
    for (Coder<?> coder : List.of(TileCoder.of(), TileCoder.HistoryCoder.of())) {
      NonDeterministicException e =
          assertThrows(NonDeterministicException.class, coder::verifyDeterministic);
      assertThat(e.getMessage(), containsString("distinct values"));
      assertThat(coder.consistentWithEquals(), is(false));
      CoderProperties.coderSerializable(coder);
    }
  }

  /**
   * From its first decoding on, a tile encodes to the same bytes after every round trip: its
   * structural value, the bytes, is what the Direct runner compares to catch a changed input.
   */
  @Test
  void aDecodedTileKeepsItsEncoding() throws Exception {
    FeaturePlan plan = new FeaturePlan(SPEC);
    Tile tile = new Tile(plan);
    for (Map<String, Object> e : FeatureCorrectnessTest.randomEvents(7, 200)) {
      long ts = (Long) e.get("ts");
      e.put("ts", Math.floorMod(ts, FeaturePlan.DAY) + 20_000 * FeaturePlan.DAY);
      tile.add(plan, row(e));
    }
    Tile decoded = CoderUtils.clone(TileCoder.of(), tile);
    CoderProperties.structuralValueDecodeEncodeEqual(TileCoder.of(), decoded);
    CoderProperties.structuralValueDecodeEncodeEqual(TileCoder.of(), new Tile(0));
    CoderProperties.structuralValueDecodeEncodeEqual(TileCoder.of(), oneDistinctSet(null));
  }

  /** A one-feature tile whose distinct set holds 17 then 1 (one bucket of 16, two of 64). */
  private static Tile oneDistinctSet(HashSet<Object> set) {
    Tile t = new Tile(1);
    t.day = 20_000;
    t.full[0] = new Agg();
    if (set != null) {
      set.add(17L);
      set.add(1L);
      t.full[0].distinct = set;
    }
    return t;
  }

  private static String describe(FeaturePlan plan, Tile t) {
    StringBuilder sb = new StringBuilder().append(t.day).append('/').append(t.minTs).append('/').append(t.maxTs);
    for (Agg[] aggs : List.of(t.full, t.tail)) {
      for (Agg a : aggs) {
        sb.append('|');
        if (a != null) {
          sb.append(a.count).append(',').append(a.sum).append(',').append(a.extreme).append(',')
              .append(a.distinct == null ? null : new java.util.TreeSet<>(a.distinct)).append(',').append(a.lastTs).append(',').append(a.lastTie)
              .append(',').append(a.lastValue);
        }
      }
    }
    return sb.toString();
  }

  private static Row row(Map<String, Object> e) {
    Object[] values = new Object[SPEC.fields().size()];
    for (int i = 0; i < values.length; i++) {
      String name = SPEC.fields().get(i).name();
      Object v = e.get(name);
      values[i] = name.equals("ts") ? new Instant((long) (Long) v) : v;
    }
    return Row.withSchema(SPEC.eventSchema()).addValues(values).build();
  }
}
