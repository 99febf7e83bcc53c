package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.sameInstance;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@link CheckpointStateCoder} gives back the state {@link EntityState#coder} does: the same held
 * events, in order, equal field by field, the same version and the same features at any later
 * instant; its repeated strings come back as one instance each, and its bytes are fewer.
 */
class CheckpointStateCoderTest {
  private static final long DAY = TrainingSetTest.DAY;

  @Test
  void aStateComesBackWithTheSameEventsVersionAndFeatures() throws Exception {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    Coder<EntityState> checkpoint = EntityState.checkpointCoder(spec);
    Coder<EntityState> store = EntityState.coder(spec);
    SplittableRandom r = new SplittableRandom(11);
    Map<String, List<Map<String, Object>>> byUser = new HashMap<>();
    for (Map<String, Object> e : TrainingSetTest.randomEvents(r, 6_000)) {
      byUser.computeIfAbsent((String) e.get("user_id"), u -> new ArrayList<>()).add(e);
    }
    long compact = 0;
    long plain = 0;
    for (List<Map<String, Object>> own : byUser.values()) {
      EntityState state = EntityState.of(spec);
      TrainingSetTest.rows(spec, own).forEach(state::add);
      // Held events share repeated values, though each row came with strings of its own.
      List<Row> added = new ArrayList<>();
      for (long day : state.keptDays()) {
        added.addAll(state.eventsOf(day));
      }
      for (Row e : added) {
        assertThat(e.getString("user_id"), sameInstance(added.get(0).getString("user_id")));
      }
      byte[] bytes = CoderUtils.encodeToByteArray(checkpoint, state);
      compact += bytes.length;
      plain += CoderUtils.encodeToByteArray(store, state).length;
      EntityState back = CoderUtils.decodeFromByteArray(checkpoint, bytes);
      assertThat(back.latestEventMillis(), equalTo(state.latestEventMillis()));
      assertThat(back.eventCount(), equalTo(state.eventCount()));
      assertThat(back.digest(), equalTo(state.digest()));
      assertThat(back.keptDays(), equalTo(state.keptDays()));
      for (long day : state.keptDays()) {
        assertThat(back.eventsOf(day), equalTo(state.eventsOf(day)));
      }
      for (long t : EntityStateTest.instants(r, state.latestEventMillis())) {
        assertThat(EntityStateTest.render(back.featuresAt(t)),
            equalTo(EntityStateTest.render(state.featuresAt(t))));
      }
      // One instance per repeated value: the entity's id in every held event.
      List<Row> held = new ArrayList<>();
      for (long day : back.keptDays()) {
        held.addAll(back.eventsOf(day));
      }
      for (Row e : held) {
        assertThat(e.getString("user_id"), sameInstance(held.get(0).getString("user_id")));
      }
    }
    assertThat(compact, lessThan(plain));
  }

  @Test
  void everyFieldTypeAndNullsComeBack() throws Exception {
    FeatureSpec spec = SpecParser.parse(String.join("\n",
        "feature_set: types",
        "version: 1",
        "entity: user_id",
        "timestamp: ts",
        "source_schema:",
        "  user_id: {type: string, required: true}",
        "  kind:    {type: string}",
        "  note:    {type: string}",
        "  flag:    {type: boolean}",
        "  n:       {type: long}",
        "  x:       {type: double}",
        "  seen_at: {type: timestamp}",
        "  ts:      {type: timestamp, required: true}",
        "features:",
        "  - {name: n_sum_2d, agg: sum, field: n, window: 2d, where: {kind: a}}",
        "  - {name: last_seen, agg: max, field: seen_at, window: 3d}",
        "  - {name: x_min, agg: min, field: x}",
        ""));
    Schema schema = spec.eventSchema();
    SplittableRandom r = new SplittableRandom(3);
    long t0 = Instant.parse("2025-05-01T00:00:00Z").getMillis();
    EntityState state = EntityState.of(spec);
    for (int i = 0; i < 500; i++) {
      long ts = t0 + r.nextLong(2 * DAY) - DAY / 2; // out of order, around the kept days' start
      state.add(Row.withSchema(schema).addValues(
          "u1",
          r.nextInt(4) == 0 ? null : (r.nextBoolean() ? "a" : "b"),
          r.nextInt(3) == 0 ? null : "note " + r.nextInt(1_000_000) + " \u00e9\u4e2d",
          r.nextInt(3) == 0 ? null : r.nextBoolean(),
          r.nextInt(3) == 0 ? null : r.nextLong(-1L << 40, 1L << 40),
          r.nextInt(3) == 0 ? null : r.nextDouble() * 1e6 - 5e5,
          r.nextInt(3) == 0 ? null : new Instant(ts - r.nextLong(10 * DAY)),
          new Instant(ts)).build());
    }
    Coder<EntityState> checkpoint = EntityState.checkpointCoder(spec);
    EntityState back = CoderUtils.clone(checkpoint, state);
    assertThat(back.keptDays(), equalTo(state.keptDays()));
    for (long day : state.keptDays()) {
      assertThat(back.eventsOf(day), equalTo(state.eventsOf(day)));
    }
    long at = state.latestEventMillis() + 3_600_000L;
    assertThat(EntityStateTest.render(back.featuresAt(at)),
        equalTo(EntityStateTest.render(state.featuresAt(at))));
    // A decoded state goes on as the original: the same event added to both.
    Row later = Row.withSchema(schema).addValues("u1", "a", null, true, 7L, 1.5,
        new Instant(at), new Instant(at + 1)).build();
    state.add(later);
    back.add(later);
    assertThat(EntityStateTest.render(back.featuresAt(at + DAY)),
        equalTo(EntityStateTest.render(state.featuresAt(at + DAY))));
    assertThat(back.digest(), equalTo(state.digest()));
  }
}
