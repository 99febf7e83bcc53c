package dev.featurebeam.pipelines.online;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.EventRows;
import dev.featurebeam.transforms.features.EntityState;
import dev.featurebeam.transforms.features.StateParts;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@link LiveEntity} applies the spec's de-duplication rule as copies arrive, in any order: its
 * state answers as a state of exactly the copies the rule keeps (decided here by a plain reading
 * of the rule over all copies at once), however late a copy comes after the entity's later
 * events, and forgetting keys only forgets what no later copy can look back to.
 */
class LiveEntityTest {
  private static final long DAY = 86_400_000L;
  private static final long T0 = Instant.parse("2025-03-01T00:00:00Z").getMillis();
  private static final String SPEC = String.join("\n",
      "feature_set: live",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "dedup_key: event_id",
      "dedup_within: 1d",
      "source_schema:",
      "  event_id: {type: string, required: true}",
      "  user_id:  {type: string, required: true}",
      "  amount:   {type: double}",
      "  ts:       {type: timestamp, required: true}",
      "features:",
      "  - {name: n_30d,   agg: count, window: 30d}",
      "  - {name: n_6h,    agg: count, window: 6h}",
      "  - {name: sum_30d, agg: sum, field: amount, window: 30d}",
      "  - {name: last_amount, agg: last, field: amount}",
      "");

  private final FeatureSpec spec = SpecParser.parse(SPEC);
  private final int ts = spec.fieldIndex("ts");
  private final int key = spec.fieldIndex("event_id");

  @Test
  void inAnyArrivalOrderTheStateHoldsExactlyTheKeptCopies() throws Exception {
    for (int seed = 1; seed <= 40; seed++) {
      SplittableRandom r = new SplittableRandom(seed);
      List<Row> copies = copies(r, 300);
      List<Row> arrival = new ArrayList<>(copies);
      Collections.shuffle(arrival, new Random(seed));
      LiveEntity live = LiveEntity.fresh(spec);
      for (Row c : arrival) {
        live.add(c, spec, ts, key);
        // Through the coder now and then, as keyed state stores it.
        if (r.nextInt(50) == 0) {
          live = CoderUtils.clone(LiveEntity.coder(spec), live);
        }
      }
      EntityState expected = stateOf(kept(copies));
      // A copy that a later-coming earlier one replaced leaves its time as the state's latest
      // (the guard's order never goes back), so the state answers from there on.
      long latest = Math.max(expected.latestEventMillis(), live.state.latestEventMillis());
      for (long at : new long[] {latest + 1, latest + 3_600_000L, latest + 7 * DAY}) {
        assertThat("seed " + seed, live.state.featuresAt(at), equalTo(expected.featuresAt(at)));
      }
    }
  }

  /**
   * The writes (a first whole one, then deltas) applied in order to a store's days leave each
   * kept day holding exactly the day's events, in any arrival order: removals by later-coming
   * earlier copies send their day whole, through the coder the writer goes on where it was, and
   * a folded day is no longer listed.
   */
  @Test
  void itsWritesAppliedInOrderHoldExactlyTheStatesDays() throws Exception {
    StateParts parts = StateParts.of(spec);
    int wholeDays = 0;
    int appends = 0;
    for (int seed = 1; seed <= 20; seed++) {
      SplittableRandom r = new SplittableRandom(seed);
      List<Row> arrival = new ArrayList<>(copies(r, 300));
      Collections.shuffle(arrival, new Random(seed));
      LiveEntity live = LiveEntity.fresh(parts);
      Map<Long, byte[]> store = new TreeMap<>();
      RedisStateStore.Version held = null;
      for (int i = 0; i < arrival.size(); i++) {
        live.add(arrival.get(i), spec, ts, key);
        if (r.nextInt(50) == 0) {
          live = CoderUtils.clone(LiveEntity.coder(spec), live);
        }
        if (r.nextInt(7) != 0 && i != arrival.size() - 1) {
          continue;
        }
        RedisStateStore.Write w = live.nextWrite(parts, "k", 0, 0);
        assertThat(w.isWhole(), equalTo(held == null));
        assertThat(w.base(), equalTo(held));
        for (RedisStateStore.DayEvents d : w.events()) {
          if (d.append()) {
            appends++;
            store.put(d.day(), concat(store.get(d.day()), d.events()));
          } else {
            wholeDays += held == null ? 0 : 1;
            store.put(d.day(), d.events());
          }
        }
        Set<Long> kept = new HashSet<>();
        for (long d : w.days()) {
          kept.add(d);
        }
        store.keySet().retainAll(kept);
        held = w.version();
        assertThat(held, equalTo(live.version()));
        for (long d : live.state.keptDays()) {
          assertThat("seed " + seed + " day " + d, store.get(d),
              equalTo(parts.events(live.state.eventsOf(d))));
        }
        assertThat(store.keySet(), equalTo(kept));
      }
    }
    assertThat("deltas appended", appends, greaterThan(100));
    assertThat("removals sent days whole", wholeDays, greaterThan(0));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void aCopyThatComesDaysOfTheEntitysEventsLateIsStillADuplicate() {
    LiveEntity live = LiveEntity.fresh(spec);
    live.add(event("e1", T0, 5.0), spec, ts, key);
    for (int d = 1; d <= 6; d++) {
      live.add(event("later-" + d, T0 + d * DAY, 1.0), spec, ts, key);
    }
    // The same event again, and a conflicting copy an hour later: neither counts.
    assertThat(live.add(event("e1", T0, 5.0), spec, ts, key), equalTo(false));
    assertThat(live.add(event("e1", T0 + 3_600_000L, 9.0), spec, ts, key), equalTo(false));
    assertThat(live.state.featuresAt(T0 + 7 * DAY).get(0), equalTo((Object) 7L));
    assertThat(live.state.featuresAt(T0 + 7 * DAY).get(2), equalTo((Object) 11.0));
  }

  @Test
  void forgettingDropsOnlyKeysWhoseLatestCopyIsBeforeTheCutoff() {
    LiveEntity live = LiveEntity.fresh(spec);
    live.add(event("a", T0, 1.0), spec, ts, key);
    live.add(event("a", T0 + 3_600_000L, 2.0), spec, ts, key);
    live.add(event("b", T0 + DAY, 3.0), spec, ts, key);
    assertThat(live.rememberedKeys(), equalTo(2));
    assertThat(live.earliestRemembered(), equalTo(T0 + 3_600_000L));
    // "a"'s latest copy is at T0 + 1h: a cutoff at it keeps it, one after it forgets it.
    assertThat(live.forgetBefore(T0 + 3_600_000L), equalTo(T0 + 3_600_000L));
    assertThat(live.forgetBefore(T0 + 3_600_001L), equalTo(T0 + DAY));
    assertThat(live.rememberedKeys(), equalTo(1));
    assertThat(live.forgetBefore(T0 + DAY + 1), equalTo(Long.MAX_VALUE));
    assertThat(live.rememberedKeys(), equalTo(0));
    // The state is untouched by forgetting: one copy of "a" and "b".
    assertThat(live.state.featuresAt(T0 + 2 * DAY).get(0), equalTo((Object) 2L));
  }

  /** Events over 10 days, with exact copies and conflicting ones shifted by up to 2 days. */
  private List<Row> copies(SplittableRandom r, int events) {
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      long t = T0 + r.nextLong(10 * DAY);
      double amount = r.nextInt(10_000) / 100.0;
      Row e = event("e" + i, t, amount);
      out.add(e);
      int more = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : 0;
      for (int k = 0; k < more; k++) {
        switch (r.nextInt(3)) {
          case 0:
            out.add(e); // exact
            break;
          case 1:
            out.add(event("e" + i, t, r.nextInt(10_000) / 100.0)); // same time, other value
            break;
          default:
            out.add(event("e" + i, t + r.nextLong(-2 * DAY, 2 * DAY), amount));
        }
      }
    }
    return out;
  }

  /**
   * The rule read plainly: a copy is dropped when another copy of its key is earlier by at most
   * dedup_within, or at the same time with a smaller serialization; exact copies count once.
   */
  private List<Row> kept(List<Row> copies) {
    long within = spec.dedupWithinMillis();
    List<Row> kept = new ArrayList<>();
    List<String> seen = new ArrayList<>();
    for (Row c : copies) {
      long t = EventRows.eventTimeMillis(c, ts);
      String s = EventRows.canonical(c);
      if (seen.contains(s)) {
        continue;
      }
      seen.add(s);
      boolean dropped = false;
      for (Row o : copies) {
        if (!o.getString(key).equals(c.getString(key))) {
          continue;
        }
        long u = EventRows.eventTimeMillis(o, ts);
        if ((u < t && t - u <= within) || (u == t && EventRows.canonical(o).compareTo(s) < 0)) {
          dropped = true;
          break;
        }
      }
      if (!dropped) {
        kept.add(c);
      }
    }
    kept.sort(Comparator.comparingLong(c -> EventRows.eventTimeMillis(c, ts)));
    return kept;
  }

  private EntityState stateOf(List<Row> events) {
    EntityState s = EntityState.of(spec);
    for (Row e : events) {
      s.add(e);
    }
    return s;
  }

  private Row event(String id, long t, double amount) {
    return Row.withSchema(spec.eventSchema())
        .withFieldValue("event_id", id)
        .withFieldValue("user_id", "u1")
        .withFieldValue("amount", amount)
        .withFieldValue("ts", new Instant(t))
        .build();
  }
}
