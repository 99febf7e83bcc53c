package dev.featurebeam.io.online;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import dev.featurebeam.io.online.RedisStateStore.DayEvents;
import dev.featurebeam.io.online.RedisStateStore.Outcome;
import dev.featurebeam.io.online.RedisStateStore.Version;
import dev.featurebeam.io.online.RedisStateStore.Write;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * {@link RedisStateStore} against the real Redis on 127.0.0.1:6379 (database 15, emptied before
 * each test): the guard refuses every write that includes less, applies a delta only on top of
 * the version it names (and says STALE otherwise), also when many writers race, deletes the days
 * a state no longer keeps, expires every key of an entity together, and a Redis that does not
 * answer fails within bounds.
 */
class RedisStateStoreTest {
  private static final String URL = "redis://127.0.0.1:6379/15";
  private static final long[] DAYS = {10, 11, 12};
  private RedisStateStore store;

  @BeforeEach
  void open() {
    try (Jedis j = jedis()) {
      j.flushDB();
    }
    store = RedisStateStore.open(URL);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static Jedis jedis() {
    Jedis j = new Jedis("127.0.0.1", 6379);
    j.select(15);
    return j;
  }

  private static Version v(long latest, long count, long digest) {
    return new Version(latest, count, digest);
  }

  /** A whole write: tiles "tiles@latest/count", the given days' events whole. */
  private static Write whole(String key, Version version, long expireAt, Map<Long, String> days) {
    List<DayEvents> events = new ArrayList<>();
    for (Map.Entry<Long, String> d : new TreeMap<>(days).entrySet()) {
      events.add(new DayEvents(d.getKey(), false, bytes(d.getValue())));
    }
    return new Write(key, bytes("tiles@" + version.latest() + "/" + version.count()), version, 0,
        expireAt, null, keys(days.keySet()), events);
  }

  /** A delta on top of {@code base}: appends and whole days, keeping {@code kept}. */
  private static Write delta(String key, Version base, Version version, long[] kept,
      Map<Long, String> appends, Map<Long, String> sets) {
    List<DayEvents> events = new ArrayList<>();
    appends.forEach((d, e) -> events.add(new DayEvents(d, true, bytes(e))));
    sets.forEach((d, e) -> events.add(new DayEvents(d, false, bytes(e))));
    return new Write(key, bytes("tiles@" + version.latest() + "/" + version.count()), version, 0,
        0, base, kept, events);
  }

  private static long[] keys(java.util.Collection<Long> days) {
    return days.stream().sorted().mapToLong(Long::longValue).toArray();
  }

  /** The stored days' events as text, absent days left out. */
  private Map<Long, String> days(String key) {
    Map<Long, String> out = new TreeMap<>();
    store.read(key, DAYS).events().forEach((d, e) -> {
      if (e != null) {
        out.put(d, text(e));
      }
    });
    return out;
  }

  @Test
  void aWholeWriteThatIncludesLessIsRefusedAndAnEqualOneIsWrittenAgain() {
    String key = RedisStateStore.key("user_features", 1, "u1");
    assertThat(key, equalTo("fb:user_features:v1:u1"));
    assertThat(RedisStateStore.dayKey(key, 10), equalTo("{fb:user_features:v1:u1}:10"));
    assertThat(store.read(key, DAYS), nullValue());
    assertThat(store.write(whole(key, v(1_000, 5, 1), 0, Map.of(10L, "a"))),
        is(Outcome.WRITTEN));
    assertThat("an older latest event",
        store.write(whole(key, v(999, 50, 2), 0, Map.of(10L, "b"))), is(Outcome.REFUSED));
    assertThat("the same latest, fewer events",
        store.write(whole(key, v(1_000, 4, 3), 0, Map.of(10L, "c"))), is(Outcome.REFUSED));
    assertThat(days(key), equalTo(Map.of(10L, "a")));
    assertThat("the same latest, a late event more",
        store.write(whole(key, v(1_000, 6, 4), 0, Map.of(10L, "d"))), is(Outcome.WRITTEN));
    assertThat("a replay of the same state",
        store.write(whole(key, v(1_000, 6, 4), 0, Map.of(10L, "d"))), is(Outcome.WRITTEN));
    assertThat("a later event",
        store.write(whole(key, v(1_001, 1, 5), 0, Map.of(11L, "e"))), is(Outcome.WRITTEN));
    RedisStateStore.Stored stored = store.read(key, DAYS);
    assertThat(text(stored.tiles()), equalTo("tiles@1001/1"));
    assertThat(stored.latest(), equalTo(1_001L));
    assertThat(stored.count(), equalTo(1L));
    assertThat(stored.digest(), equalTo(5L));
    assertThat("day 10 is no longer kept: deleted", days(key), equalTo(Map.of(11L, "e")));
    try (Jedis j = jedis()) {
      assertThat(j.exists(RedisStateStore.dayKey(key, 10)), is(false));
    }
  }

  @Test
  void aDeltaOnItsBaseAppendsAndAReplayOfItChangesNothing() {
    String key = RedisStateStore.key("fs", 1, "u");
    Version v1 = v(100, 2, 7);
    store.write(whole(key, v1, 0, Map.of(10L, "a;", 11L, "b;")));
    Version v2 = v(120, 4, 9);
    Write d = delta(key, v1, v2, new long[] {10, 11, 12}, Map.of(11L, "c;"), Map.of(12L, "d;"));
    assertThat(store.write(d), is(Outcome.WRITTEN));
    assertThat(days(key), equalTo(Map.of(10L, "a;", 11L, "b;c;", 12L, "d;")));
    assertThat(text(store.read(key, DAYS).tiles()), equalTo("tiles@120/4"));
    assertThat("a replay finds its own version: done, not appended twice", store.write(d),
        is(Outcome.WRITTEN));
    assertThat(days(key), equalTo(Map.of(10L, "a;", 11L, "b;c;", 12L, "d;")));
    // A removal in day 10 (the count stays, the digest changes) sends the day whole.
    Version v3 = v(120, 4, 11);
    assertThat(store.write(delta(key, v2, v3, new long[] {10, 11, 12}, Map.of(),
        Map.of(10L, "x;"))), is(Outcome.WRITTEN));
    assertThat(days(key), equalTo(Map.of(10L, "x;", 11L, "b;c;", 12L, "d;")));
    // Day 10 folded away: its key goes.
    Version v4 = v(200, 5, 12);
    assertThat(store.write(delta(key, v3, v4, new long[] {11, 12}, Map.of(12L, "e;"),
        Map.of())), is(Outcome.WRITTEN));
    assertThat(days(key), equalTo(Map.of(11L, "b;c;", 12L, "d;e;")));
    try (Jedis j = jedis()) {
      assertThat(j.exists(RedisStateStore.dayKey(key, 10)), is(false));
      assertThat(j.hget(key, "days"), equalTo("11 12"));
    }
  }

  @Test
  void aDeltaIsRefusedWhenRedisIsNewerAndStaleOnAnyOtherVersion() {
    String key = RedisStateStore.key("fs", 1, "u");
    Version v1 = v(100, 2, 7);
    Write d = delta(key, v1, v(120, 3, 8), new long[] {10}, Map.of(10L, "c;"), Map.of());
    assertThat("nothing stored", store.write(d), is(Outcome.STALE));
    assertThat(store.read(key, DAYS), nullValue());

    store.write(whole(key, v(100, 2, 99), 0, Map.of(10L, "other;")));
    assertThat("the base's latest and count, another digest", store.write(d),
        is(Outcome.STALE));
    store.write(whole(key, v(90, 9, 1), 0, Map.of(10L, "older;")));
    assertThat("an older version than the base: still refused by the whole write before",
        days(key), equalTo(Map.of(10L, "other;")));
    store.write(whole(key, v(110, 2, 1), 0, Map.of(10L, "between;")));
    assertThat("between the base and the delta's version", store.write(d), is(Outcome.STALE));
    assertThat(days(key), equalTo(Map.of(10L, "between;")));
    store.write(whole(key, v(130, 1, 1), 0, Map.of(10L, "newer;")));
    assertThat("newer than the delta", store.write(d), is(Outcome.REFUSED));
    assertThat(days(key), equalTo(Map.of(10L, "newer;")));
    assertThat(store.read(key, DAYS).latest(), equalTo(130L));
  }

  /**
   * Writers of their own lineages race on one entity: each keeps its days, sends deltas on top
   * of what it last sent and the whole state when told STALE. Whatever the interleaving, Redis
   * ends holding exactly one writer's state at the greatest version written, never a mix.
   */
  @Test
  void racingWritersOfDeltasNeverLeaveAMixedOrOlderState() throws Exception {
    String key = RedisStateStore.key("fs", 2, "hot");
    int writers = 6;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<Future<Map<Version, Map<Long, String>>>> results = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int id = w;
      results.add(pool.submit(() -> {
        SplittableRandom r = new SplittableRandom(id);
        Map<Version, Map<Long, String>> snapshots = new HashMap<>();
        TreeMap<Long, StringBuilder> days = new TreeMap<>();
        Map<Long, Integer> sentLength = new HashMap<>();
        Version sent = null;
        long latest = 1_000;
        long count = 0;
        long digest = 0;
        for (int i = 0; i < 200; i++) {
          int n = 1 + r.nextInt(3);
          for (int e = 0; e < n; e++) {
            long day = 10 + r.nextInt(3); // out of order among three days
            String event = id + ":" + i + ":" + e + ";";
            days.computeIfAbsent(day, x -> new StringBuilder()).append(event);
            count++;
            digest += event.hashCode();
            latest = Math.max(latest, 1_000 + r.nextInt(400));
          }
          Version now = v(latest, count, digest);
          Map<Long, String> whole = new TreeMap<>();
          days.forEach((d, b) -> whole.put(d, b.toString()));
          snapshots.put(now, whole);
          Map<Long, String> appends = new HashMap<>();
          Map<Long, String> sets = new HashMap<>();
          for (Map.Entry<Long, String> d : whole.entrySet()) {
            Integer before = sentLength.get(d.getKey());
            if (before == null) {
              sets.put(d.getKey(), d.getValue());
            } else if (d.getValue().length() > before) {
              appends.put(d.getKey(), d.getValue().substring(before));
            }
          }
          Outcome done = sent == null ? store.write(whole(key, now, 0, whole))
              : store.write(delta(key, sent, now, keys(whole.keySet()), appends, sets));
          if (done == Outcome.STALE) {
            assertThat(store.write(whole(key, now, 0, whole)), not(is(Outcome.STALE)));
          }
          sent = now;
          sentLength.clear();
          whole.forEach((d, e) -> sentLength.put(d, e.length()));
        }
        return snapshots;
      }));
    }
    Map<Version, Map<Long, String>> all = new HashMap<>();
    Version max = null;
    for (Future<Map<Version, Map<Long, String>>> f : results) {
      Map<Version, Map<Long, String>> snapshots = f.get(120, TimeUnit.SECONDS);
      all.putAll(snapshots);
      for (Version v : snapshots.keySet()) {
        if (max == null || v.latest() > max.latest()
            || (v.latest() == max.latest() && v.count() > max.count())) {
          max = v;
        }
      }
    }
    pool.shutdown();
    RedisStateStore.Stored stored = store.read(key, DAYS);
    Version held = v(stored.latest(), stored.count(), stored.digest());
    assertThat("the greatest (latest, count) written", held.latest(), equalTo(max.latest()));
    assertThat(held.count(), equalTo(max.count()));
    assertThat("exactly one writer's state at that version", days(key), equalTo(all.get(held)));
    assertThat(text(stored.tiles()), equalTo("tiles@" + held.latest() + "/" + held.count()));
  }

  @Test
  void everyKeyOfAnEntityExpiresWithItsHashOrIsKeptForGood() throws Exception {
    String soon = RedisStateStore.key("fs", 1, "soon");
    String kept = RedisStateStore.key("fs", 1, "kept");
    long at = System.currentTimeMillis() + 300;
    store.write(whole(soon, v(1, 1, 1), at, Map.of(10L, "x", 11L, "y")));
    store.write(whole(kept, v(1, 1, 1), at, Map.of(10L, "x", 11L, "y")));
    // A whole-history state: no expiry any more, on the hash and every day.
    store.write(delta(kept, v(1, 1, 1), v(2, 2, 2), new long[] {10, 11}, Map.of(11L, "z"),
        Map.of()));
    try (Jedis j = jedis()) {
      assertThat(j.pttl(RedisStateStore.dayKey(soon, 10)), lessThan(400L));
      assertThat(j.pttl(RedisStateStore.dayKey(kept, 10)), equalTo(-1L));
      assertThat(j.pttl(RedisStateStore.dayKey(kept, 11)), equalTo(-1L));
      assertThat(j.pttl(kept), equalTo(-1L));
    }
    assertThat(store.read(soon, DAYS), not(nullValue()));
    Thread.sleep(600);
    assertThat(store.read(soon, DAYS), nullValue());
    try (Jedis j = jedis()) {
      assertThat(j.exists(RedisStateStore.dayKey(soon, 10)), is(false));
      assertThat(j.exists(RedisStateStore.dayKey(soon, 11)), is(false));
    }
    assertThat(days(kept), equalTo(Map.of(10L, "x", 11L, "yz")));
  }

  @Test
  void aWriteAndItsDeltaMergeIntoOne() {
    String key = RedisStateStore.key("fs", 1, "u");
    Write first = whole(key, v(1, 1, 1), 0, Map.of(10L, "a;", 11L, "b;"));
    Write next = delta(key, v(1, 1, 1), v(2, 3, 2), new long[] {11, 12}, Map.of(11L, "c;"),
        Map.of(12L, "d;"));
    Write merged = first.then(next);
    assertThat(merged.isWhole(), is(true));
    assertThat(store.write(merged), is(Outcome.WRITTEN));
    assertThat(days(key), equalTo(Map.of(11L, "b;c;", 12L, "d;")));
    Write more = delta(key, v(2, 3, 2), v(3, 4, 3), new long[] {11, 12}, Map.of(12L, "e;"),
        Map.of());
    Write evenMore = delta(key, v(3, 4, 3), v(4, 5, 4), new long[] {11, 12}, Map.of(12L, "f;"),
        Map.of(11L, "B;"));
    Write both = more.then(evenMore);
    assertThat(both.base(), equalTo(v(2, 3, 2)));
    assertThat(store.write(both), is(Outcome.WRITTEN));
    assertThat(days(key), equalTo(Map.of(11L, "B;", 12L, "d;e;f;")));
    assertThrows(IllegalArgumentException.class, () -> more.then(more));
  }

  @Test
  void theScriptsAreLoadedAgainAfterRedisForgetsThem() {
    String key = RedisStateStore.key("fs", 1, "u");
    store.write(whole(key, v(1, 1, 1), 0, Map.of(10L, "a")));
    try (Jedis j = jedis()) {
      j.scriptFlush();
    }
    assertThat(store.read(key, DAYS).latest(), equalTo(1L));
    try (Jedis j = jedis()) {
      j.scriptFlush();
    }
    assertThat(store.write(whole(key, v(2, 1, 1), 0, Map.of(10L, "b"))), is(Outcome.WRITTEN));
    assertThat(store.write(whole(key, v(1, 9, 1), 0, Map.of(10L, "c"))), is(Outcome.REFUSED));
    try (Jedis j = jedis()) {
      j.scriptFlush();
    }
    assertThat(store.writeAll(List.of(whole(key, v(3, 1, 1), 0, Map.of(10L, "d")))),
        equalTo(new Outcome[] {Outcome.WRITTEN}));
    assertThat(days(key), equalTo(Map.of(10L, "d")));
  }

  @Test
  void aBatchBaseIsKeptUnlessALaterOneIs() {
    String key = RedisStateStore.key("fs", 1, "u");
    Write w = new Write(key, bytes("t"), v(5, 1, 1), 2_000, 0, null, new long[] {10},
        List.of(new DayEvents(10, false, bytes("a"))));
    assertThat(store.writeWithBase(w, bytes("base-2000")), is(Outcome.WRITTEN));
    Write older = new Write(key, bytes("t"), v(4, 1, 1), 1_000, 0, null, new long[] {10},
        List.of(new DayEvents(10, false, bytes("b"))));
    assertThat(store.writeWithBase(older, bytes("base-1000")), is(Outcome.REFUSED));
    RedisStateStore.Base base = store.readBase(key);
    assertThat(text(base.state()), equalTo("base-2000"));
    assertThat(base.watermark(), equalTo(2_000L));
  }

  @Test
  void aClosedPortFailsWithinBoundsAndCredentialsStayOutOfMessages() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    try (RedisStateStore down = RedisStateStore.open("redis://app:s3cret@127.0.0.1:" + closed + "/0")) {
      assertThat(down.toString(), equalTo("redis://127.0.0.1:" + closed + "/0"));
      long started = System.nanoTime();
      RuntimeException e = assertThrows(RuntimeException.class,
          () -> down.write(whole("k", v(1, 1, 1), 0, Map.of(10L, "x"))));
      assertThat((System.nanoTime() - started) / 1e9, lessThan(10.0));
      assertThat(String.valueOf(e.getMessage()), not(containsString("s3cret")));
    }
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> RedisStateStore.open("http://app:s3cret@127.0.0.1:6379"));
    assertThat(bad.getMessage(), not(containsString("s3cret")));
    assertThat(bad.getMessage(), containsString("redis://"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
