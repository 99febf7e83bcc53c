package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

/**
 * {@link EntityState} against a plain scan of the entity's events ({@link NaiveFeatures#value}) at
 * instants at and after its latest event, with the events added in random order (late ones
 * included), and its size bounded by the longest window.
 */
class EntityStateTest {
  private static final long DAY = TrainingSetTest.DAY;

  @Test
  void atAndAfterTheLatestEventEveryFeatureIsThePlainScansValue() {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    SplittableRandom r = new SplittableRandom(7);
    List<Map<String, Object>> events = TrainingSetTest.randomEvents(r, 20_000);
    Map<String, List<Map<String, Object>>> byUser = new HashMap<>();
    for (Map<String, Object> e : events) {
      byUser.computeIfAbsent((String) e.get("user_id"), u -> new ArrayList<>()).add(e);
    }
    int checked = 0;
    for (Map.Entry<String, List<Map<String, Object>>> user : byUser.entrySet()) {
      List<Map<String, Object>> own = user.getValue(); // shuffled: late events come too
      EntityState state = EntityState.of(spec);
      List<Row> rows = TrainingSetTest.rows(spec, own);
      long latest = Long.MIN_VALUE;
      for (int k = 0; k < rows.size(); k++) {
        state.add(rows.get(k));
        latest = Math.max(latest, (Long) own.get(k).get("ts"));
        // Now and then on the way, not only at the end: the state answers after every add.
        if (k % 97 == 0 || k == rows.size() - 1) {
          List<Map<String, Object>> seen = own.subList(0, k + 1);
          for (long t : instants(r, latest)) {
            assertThat(user.getKey() + " at " + Instant.ofEpochMilli(t), render(state.featuresAt(t)),
                equalTo(expected(spec, seen, t)));
            checked++;
          }
        }
      }
      assertThat(state.latestEventMillis(), equalTo(latest));
      assertThat(state.eventCount(), equalTo((long) own.size()));
      // Through the coder (an online store's bytes) it answers the same, and goes on the same.
      EntityState copy = roundTrip(spec, state);
      assertThat(copy.latestEventMillis(), equalTo(latest));
      assertThat(copy.eventCount(), equalTo(state.eventCount()));
      assertThat(copy.heldEvents(), equalTo(state.heldEvents()));
      Row later = TrainingSetTest.rows(spec, List.of(TrainingSetTest.event(
          "x-" + user.getKey(), user.getKey(), latest + 3 * DAY + 17, 5.0, "toys"))).get(0);
      for (EntityState s : List.of(state, copy)) {
        s.add(later);
      }
      List<Map<String, Object>> withLater = new ArrayList<>(own);
      withLater.add(TrainingSetTest.event("x-" + user.getKey(), user.getKey(),
          latest + 3 * DAY + 17, 5.0, "toys"));
      for (long t : instants(r, latest + 3 * DAY + 17)) {
        assertThat(render(roundTrip(spec, copy).featuresAt(t)),
            equalTo(expected(spec, withLater, t)));
        assertThat(render(copy.featuresAt(t)), equalTo(render(state.featuresAt(t))));
      }
      // Bounded: the 7-day window is the longest, so at most 8 days of events are held.
      long since = latest + 3 * DAY + 17 - 8 * DAY;
      long kept = withLater.stream().filter(e -> (Long) e.get("ts") >= since).count();
      assertThat(user.getKey(), (long) state.heldEvents(), org.hamcrest.Matchers.lessThanOrEqualTo(kept));
    }
    assertThat(checked, greaterThan(2_000));
    // The hot user's whole history is far longer than what its state holds.
    EntityState hot = EntityState.of(spec);
    TrainingSetTest.rows(spec, byUser.get("hot")).forEach(hot::add);
    assertThat(hot.heldEvents(), lessThan(byUser.get("hot").size() / 2));
  }

  /** Taking an event back answers as if it had never been added; a folded one cannot be. */
  @Test
  void aRemovedEventIsAsIfNeverAdded() {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    SplittableRandom r = new SplittableRandom(11);
    List<Map<String, Object>> events = new ArrayList<>();
    for (Map<String, Object> e : TrainingSetTest.randomEvents(r, 3_000)) {
      if ("u1".equals(e.get("user_id")) || "u2".equals(e.get("user_id"))) {
        events.add(e);
      }
    }
    List<Row> rows = TrainingSetTest.rows(spec, events);
    EntityState state = EntityState.of(spec);
    rows.forEach(state::add);
    long latest = state.latestEventMillis();
    List<Map<String, Object>> left = new ArrayList<>(events);
    int removed = 0;
    for (int k = rows.size() - 1; k >= 0 && removed < 25; k--) {
      long ts = (Long) events.get(k).get("ts");
      if (ts < latest - 6 * DAY) {
        continue; // folded or about to be: kept days only
      }
      Row gone = rows.get(k);
      assertThat(state.remove(ts, gone::equals), equalTo(true));
      left.remove(events.get(k));
      removed++;
    }
    assertThat(removed, greaterThan(10));
    assertThat(state.eventCount(), equalTo((long) rows.size())); // a version: it only grows
    for (long t : instants(r, latest)) {
      assertThat(render(state.featuresAt(t)), equalTo(expected(spec, left, t)));
    }
    Row folded = rows.stream().filter(e -> e.getDateTime("ts").getMillis() < latest - 9 * DAY)
        .findFirst().orElseThrow();
    assertThat(state.remove(folded.getDateTime("ts").getMillis(), folded::equals), equalTo(false));
  }

  @Test
  void anEventAddedWithItsCanonicalTextGivesTheSameVersionAsOneAddedAlone() {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    List<Row> rows = TrainingSetTest.rows(spec, TrainingSetTest.randomEvents(
        new SplittableRandom(13), 2_000));
    EntityState alone = EntityState.of(spec);
    EntityState withText = EntityState.of(spec);
    for (Row e : rows) {
      alone.add(e);
      withText.add(e, dev.featurebeam.transforms.EventRows.canonical(e));
    }
    assertThat(withText.digest(), equalTo(alone.digest()));
    assertThat(withText.eventCount(), equalTo(alone.eventCount()));
    // Taking one back subtracts the hash add counted: both states hold the other events.
    // The latest event is in a kept day, never folded.
    Row last = rows.stream().max(java.util.Comparator.comparingLong(
        (Row e) -> e.getDateTime("ts").getMillis())).orElseThrow();
    long ts = last.getDateTime("ts").getMillis();
    assertThat(withText.remove(ts, last::equals), equalTo(true));
    assertThat(alone.remove(ts, last::equals), equalTo(true));
    assertThat(withText.digest(), equalTo(alone.digest()));
    assertThat(withText.digest() == EntityState.of(spec).digest(), equalTo(false));
  }

  @Test
  void anInstantBeforeTheLatestEventIsRefusedPointingToTrainingSets() {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    long ts = Instant.parse("2025-01-05T10:00:00Z").toEpochMilli();
    EntityState state = EntityState.of(spec);
    state.add(TrainingSetTest.rows(spec,
        List.of(TrainingSetTest.event("e1", "u1", ts, 10.0, "books"))).get(0));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> state.featuresAt(ts - 1));
    assertThat(e.getMessage(), containsString("training set"));
    // At the event's own instant it does not count yet; a millisecond later it does.
    int nAll = indexOf(spec, "n_all");
    assertThat(state.featuresAt(ts).get(nAll), equalTo(0L));
    assertThat(state.featuresAt(ts + 1).get(nAll), equalTo(1L));
  }

  /** The latest event's instant, a millisecond later, midnights after it, window edges, far later. */
  static long[] instants(SplittableRandom r, long latest) {
    long midnight = Math.floorDiv(latest, DAY) * DAY + DAY;
    return new long[] {latest, latest + 1, midnight, midnight + 2 * DAY,
        latest + 45 * 60_000L, latest + 45 * 60_000L + 1, latest + 7 * DAY, latest + 7 * DAY + 1,
        latest + r.nextLong(10 * DAY), latest + 40 * DAY};
  }

  private static EntityState roundTrip(FeatureSpec spec, EntityState state) {
    try {
      org.apache.beam.sdk.coders.Coder<EntityState> coder = EntityState.coder(spec);
      return org.apache.beam.sdk.util.CoderUtils.decodeFromByteArray(coder,
          org.apache.beam.sdk.util.CoderUtils.encodeToByteArray(coder, state));
    } catch (org.apache.beam.sdk.coders.CoderException e) {
      throw new AssertionError(e);
    }
  }

  static List<String> expected(FeatureSpec spec, List<Map<String, Object>> events, long t) {
    List<String> out = new ArrayList<>();
    for (FeatureDef f : spec.features()) {
      Object v = NaiveFeatures.value(spec, f, events, t);
      out.add(v == null ? "" : v.toString());
    }
    return out;
  }

  /** As {@link TrainingSetTest#line} renders a training row's features. */
  static List<String> render(List<Object> values) {
    List<String> out = new ArrayList<>();
    for (Object v : values) {
      if (v instanceof org.joda.time.ReadableInstant) {
        v = Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis());
      }
      out.add(v == null ? "" : v.toString());
    }
    return out;
  }

  private static int indexOf(FeatureSpec spec, String name) {
    for (int i = 0; i < spec.features().size(); i++) {
      if (spec.features().get(i).name().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException(name);
  }
}
