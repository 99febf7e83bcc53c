package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

/**
 * {@link StateParts}: a state assembled from its tiles and only the days an instant's window
 * edges fall in answers as the plain scan does; a day's events encoded in pieces are the day's
 * events encoded at once (what lets a store append); the digest tells states apart by their
 * events, not by the order they came in.
 */
class StatePartsTest {
  private static final long DAY = TrainingSetTest.DAY;

  @Test
  void theTilesAndTheEdgeDaysAloneAnswerAsThePlainScan() throws Exception {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    StateParts parts = StateParts.of(spec);
    SplittableRandom r = new SplittableRandom(3);
    Map<String, List<Map<String, Object>>> byUser = new HashMap<>();
    for (Map<String, Object> e : TrainingSetTest.randomEvents(r, 8_000)) {
      byUser.computeIfAbsent((String) e.get("user_id"), u -> new ArrayList<>()).add(e);
    }
    int checked = 0;
    int partial = 0;
    for (Map.Entry<String, List<Map<String, Object>>> user : byUser.entrySet()) {
      List<Map<String, Object>> own = user.getValue();
      List<Row> rows = TrainingSetTest.rows(spec, own);
      EntityState state = parts.empty();
      // What a store holds: each day's bytes, grown by appending the day's new events.
      Map<Long, byte[]> stored = new HashMap<>();
      Map<Long, Integer> sent = new HashMap<>();
      long latest = Long.MIN_VALUE;
      for (int k = 0; k < rows.size(); k++) {
        state.add(rows.get(k));
        latest = Math.max(latest, (Long) own.get(k).get("ts"));
        if (k % 13 != 0 && k != rows.size() - 1) {
          continue;
        }
        Map<Long, byte[]> next = new HashMap<>();
        for (long day : state.keptDays()) {
          List<Row> events = state.eventsOf(day);
          Integer before = sent.get(day);
          byte[] bytes = before == null ? parts.events(events)
              : concat(stored.get(day), parts.events(events.subList(before, events.size())));
          assertThat("day " + day + " appended in pieces", bytes,
              equalTo(parts.events(events)));
          next.put(day, bytes);
          sent.put(day, events.size());
        }
        stored = next;
        sent.keySet().retainAll(next.keySet());
        byte[] tiles = parts.tiles(state);
        for (long t : EntityStateTest.instants(r, latest)) {
          Map<Long, byte[]> read = new HashMap<>();
          for (long d : parts.daysReadAt(t)) {
            read.put(d, stored.get(d)); // null: no events that day
          }
          if (read.size() < stored.size()) {
            partial++;
          }
          EntityState view = parts.assemble(tiles, read);
          assertThat(user.getKey() + " at " + Instant.ofEpochMilli(t),
              EntityStateTest.render(view.featuresAt(t)),
              equalTo(EntityStateTest.expected(spec, own.subList(0, k + 1), t)));
          checked++;
        }
      }
      EntityState whole = parts.assemble(parts.tiles(state), stored);
      assertThat(whole.latestEventMillis(), equalTo(state.latestEventMillis()));
      assertThat(whole.eventCount(), equalTo(state.eventCount()));
      assertThat(whole.digest(), equalTo(state.digest()));
      assertThat(whole.heldEvents(), equalTo(state.heldEvents()));
      whole.add(rows.get(0)); // a whole state goes on
    }
    assertThat(checked, greaterThan(1_000));
    assertThat("most lookups read fewer days than are kept", partial, greaterThan(checked / 2));
  }

  @Test
  void aViewRefusesInstantsWhoseEdgesItDidNotReadAndAnyChange() throws Exception {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    StateParts parts = StateParts.of(spec);
    long ts = Instant.parse("2025-01-05T10:00:00Z").toEpochMilli();
    EntityState state = parts.empty();
    for (int i = 0; i < 3; i++) {
      state.add(TrainingSetTest.rows(spec, List.of(TrainingSetTest.event("e" + i, "u1",
          ts + i * DAY, 10.0, "books"))).get(0));
    }
    EntityState view = parts.assemble(parts.tiles(state), Map.of());
    long noon = ts + 2 * DAY + 3_600_000L;
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> view.featuresAt(noon));
    assertThat(e.getMessage(), containsString("were not read"));
    // At a midnight the tiles alone answer.
    long midnight = Math.floorDiv(ts, DAY) * DAY + 3 * DAY;
    assertThat(view.featuresAt(midnight), equalTo(state.featuresAt(midnight)));
    assertThrows(IllegalStateException.class, () -> view.add(TrainingSetTest.rows(spec,
        List.of(TrainingSetTest.event("e9", "u1", ts, 1.0, "books"))).get(0)));
  }

  @Test
  void theDigestIsOfTheEventsNotOfTheirOrder() {
    FeatureSpec spec = SpecParser.parse(TrainingSetTest.RANDOM_SPEC);
    StateParts parts = StateParts.of(spec);
    long ts = Instant.parse("2025-01-05T10:00:00Z").toEpochMilli();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rows.add(TrainingSetTest.rows(spec, List.of(TrainingSetTest.event("e" + i, "u1",
          ts + i * 3_600_000L, (double) i, "books"))).get(0));
    }
    EntityState inOrder = parts.empty();
    rows.forEach(inOrder::add);
    List<Row> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new java.util.Random(5));
    EntityState otherOrder = parts.empty();
    shuffled.forEach(otherOrder::add);
    assertThat(otherOrder.digest(), equalTo(inOrder.digest()));
    // Same latest event and count, one event other: another digest.
    EntityState other = parts.empty();
    rows.subList(0, 19).forEach(other::add);
    other.add(TrainingSetTest.rows(spec, List.of(TrainingSetTest.event("x", "u1",
        ts + 5 * 3_600_000L, 1.0, "toys"))).get(0));
    other.add(rows.get(19));
    EntityState less = parts.empty();
    rows.subList(0, 19).forEach(less::add);
    less.add(rows.get(19));
    less.add(rows.get(0));
    assertThat(other.eventCount(), equalTo(less.eventCount()));
    assertThat(other.digest(), not(equalTo(less.digest())));
    // Taking back the event added twice gives the digest of the state without it.
    long t0 = rows.get(0).getDateTime("ts").getMillis();
    assertThat(less.remove(t0, rows.get(0)::equals), equalTo(true));
    assertThat(less.digest(), equalTo(inOrder.digest()));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
