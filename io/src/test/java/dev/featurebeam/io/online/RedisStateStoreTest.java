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
import java.util.ArrayList;
import java.util.List;
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
 * each test): the guard refuses every write that includes less, also when many writers race, keys
 * expire when told, and a Redis that does not answer fails within bounds.
 */
class RedisStateStoreTest {
  private static final String URL = "redis://127.0.0.1:6379/15";
  private RedisStateStore store;

  @BeforeEach
  void open() {
    try (Jedis j = new Jedis("127.0.0.1", 6379)) {
      j.select(15);
      j.flushDB();
    }
    store = RedisStateStore.open(URL);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void aWriteThatIncludesLessIsRefusedAndAnEqualOneIsWrittenAgain() {
    String key = RedisStateStore.key("user_features", 1, "u1");
    assertThat(key, equalTo("fb:user_features:v1:u1"));
    assertThat(store.read(key), nullValue());
    assertThat(store.write(key, bytes("a"), 1_000, 5, 900, 0), is(true));
    assertThat("an older latest event", store.write(key, bytes("b"), 999, 50, 2_000, 0), is(false));
    assertThat("the same latest, fewer events", store.write(key, bytes("c"), 1_000, 4, 2_000, 0),
        is(false));
    assertThat(text(store.read(key).state()), equalTo("a"));
    assertThat("the same latest, a late event more", store.write(key, bytes("d"), 1_000, 6, 950, 0),
        is(true));
    assertThat("a replay of the same state", store.write(key, bytes("d"), 1_000, 6, 950, 0),
        is(true));
    assertThat("a later event", store.write(key, bytes("e"), 1_001, 1, 960, 0), is(true));
    RedisStateStore.Stored stored = store.read(key);
    assertThat(text(stored.state()), equalTo("e"));
    assertThat(stored.latest(), equalTo(1_001L));
    assertThat(stored.count(), equalTo(1L));
    assertThat(stored.watermark(), equalTo(960L));
  }

  /** Eight writers race 300 writes each of random states: the stored one is the greatest. */
  @Test
  void racingWritersLeaveTheStateThatIncludesTheMost() throws Exception {
    String key = RedisStateStore.key("fs", 2, "hot");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<long[]>> best = new ArrayList<>();
    for (int w = 0; w < 8; w++) {
      long seed = w;
      best.add(pool.submit(() -> {
        SplittableRandom r = new SplittableRandom(seed);
        long[] max = {Long.MIN_VALUE, Long.MIN_VALUE};
        for (int i = 0; i < 300; i++) {
          long latest = 1_000 + r.nextInt(50);
          long count = r.nextInt(50);
          store.write(key, bytes(latest + "/" + count), latest, count, 0, 0);
          if (latest > max[0] || (latest == max[0] && count > max[1])) {
            max[0] = latest;
            max[1] = count;
          }
        }
        return max;
      }));
    }
    long[] max = {Long.MIN_VALUE, Long.MIN_VALUE};
    for (Future<long[]> f : best) {
      long[] m = f.get(60, TimeUnit.SECONDS);
      if (m[0] > max[0] || (m[0] == max[0] && m[1] > max[1])) {
        max = m;
      }
    }
    pool.shutdown();
    RedisStateStore.Stored stored = store.read(key);
    assertThat(text(stored.state()), equalTo(max[0] + "/" + max[1]));
    assertThat(stored.latest(), equalTo(max[0]));
    assertThat(stored.count(), equalTo(max[1]));
  }

  @Test
  void aKeyExpiresWhenToldAndIsKeptOtherwise() throws Exception {
    String soon = RedisStateStore.key("fs", 1, "soon");
    String kept = RedisStateStore.key("fs", 1, "kept");
    store.write(soon, bytes("x"), 1, 1, 0, System.currentTimeMillis() + 300);
    store.write(kept, bytes("x"), 1, 1, 0, System.currentTimeMillis() + 300);
    store.write(kept, bytes("y"), 2, 1, 0, 0); // a whole-history state: no expiry any more
    assertThat(store.read(soon), not(nullValue()));
    Thread.sleep(600);
    assertThat(store.read(soon), nullValue());
    assertThat(text(store.read(kept).state()), equalTo("y"));
  }

  @Test
  void theScriptIsLoadedAgainAfterRedisForgetsIt() {
    String key = RedisStateStore.key("fs", 1, "u");
    store.write(key, bytes("a"), 1, 1, 0, 0);
    try (Jedis j = new Jedis("127.0.0.1", 6379)) {
      j.scriptFlush();
    }
    assertThat(store.write(key, bytes("b"), 2, 1, 0, 0), is(true));
    assertThat(store.write(key, bytes("c"), 1, 9, 0, 0), is(false));
    assertThat(text(store.read(key).state()), equalTo("b"));
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
          () -> down.write("k", bytes("x"), 1, 1, 0, 0));
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
