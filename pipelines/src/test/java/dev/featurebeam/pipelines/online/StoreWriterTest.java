package dev.featurebeam.pipelines.online;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.pipelines.PrivateRedis;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The online writer's queue on a private redis-server that is killed and started again. */
class StoreWriterTest {
  @TempDir Path dir;

  /** A whole write: tiles {@code state}, day 1's events {@code state}. */
  private static RedisStateStore.Write write(String key, String state, long latest, long count) {
    return new RedisStateStore.Write(key, bytes(state), version(latest, count), latest, 0, null,
        new long[] {1}, List.of(new RedisStateStore.DayEvents(1, false, bytes(state))));
  }

  /** A delta on top of (baseLatest, baseCount) appending {@code more} to day 1. */
  private static RedisStateStore.Write delta(String key, long baseLatest, long baseCount,
      String more, long latest, long count) {
    return new RedisStateStore.Write(key, bytes(more), version(latest, count), latest, 0,
        version(baseLatest, baseCount), new long[] {1},
        List.of(new RedisStateStore.DayEvents(1, true, bytes(more))));
  }

  private static RedisStateStore.Version version(long latest, long count) {
    return new RedisStateStore.Version(latest, count, latest * 31 + count);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void writesWaitForARedisThatIsDownAndNoneIsLost() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Process redis = startRedis(port);
    try (RedisStateStore store = RedisStateStore.open("redis://127.0.0.1:" + port + "/0");
        StoreWriter writer = new StoreWriter(store, Duration.millis(100), "test")) {
      // A later write of a key replaces its waiting one (a delta is merged onto it); an older one
      // is refused by the guard.
      store.write(write("k0", "newer", 50, 1));
      writer.submit(write("k0", "older", 10, 1));
      writer.submit(write("m", "a;", 1, 1));
      writer.submit(delta("m", 1, 1, "b;", 2, 2));
      writer.submit(delta("m", 2, 2, "c;", 3, 3));
      for (int i = 1; i <= 1200; i++) {
        writer.submit(write("k" + i, "first-" + i, i, 1));
        writer.submit(write("k" + i, "second-" + i, i + 1, 2));
      }
      writer.drain();
      long[] counts = writer.takeCounts();
      assertThat(counts[0] + counts[1], greaterThan(1200L)); // each key once, or twice if sent
      assertThat(counts[1] >= 1, equalTo(true)); // k0's older state
      assertThat(read(port, "k0"), equalTo("newer"));
      assertThat(read(port, "k1200"), equalTo("second-1200"));
      assertThat(events(port, "m"), equalTo("a;b;c;"));
      assertThat(writer.takeStale(), equalTo(Set.of()));

      // Redis dies: writes wait, drain waits with them, and both finish once Redis is back.
      redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      for (int i = 1; i <= 300; i++) {
        writer.submit(delta("k" + i, i + 1, 2, "third-" + i, i + 2, 3));
      }
      CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> {
        try {
          writer.drain();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(1_000);
      assertThat("drain returned while Redis was down", drained.isDone(), equalTo(false));
      redis = startRedis(port); // empty: nothing was saved
      drained.get(30, TimeUnit.SECONDS);
      long[] afterOutage = writer.takeCounts();
      assertThat(afterOutage[2], greaterThan(0L));
      // The new Redis holds nothing: not one delta applied, each handed back to be sent whole.
      assertThat(afterOutage[3], equalTo(300L));
      Set<String> stale = writer.takeStale();
      assertThat(stale.size(), equalTo(300));
      assertThat(read(port, "k1"), equalTo(null));
      for (String key : stale) {
        int i = Integer.parseInt(key.substring(1));
        writer.submit(write(key, "whole-" + i, i + 2, 3));
      }
      writer.drain();
      for (int i = 1; i <= 300; i++) {
        assertThat(read(port, "k" + i), equalTo("whole-" + i));
        assertThat(events(port, "k" + i), equalTo("whole-" + i));
      }
    } finally {
      redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static String read(int port, String key) {
    try (Jedis j = new Jedis("127.0.0.1", port)) {
      return j.hget(key, "tiles");
    }
  }

  private static String events(int port, String key) {
    try (Jedis j = new Jedis("127.0.0.1", port)) {
      return j.get(RedisStateStore.dayKey(key, 1));
    }
  }

  private Process startRedis(int port) throws Exception {
    return PrivateRedis.start(port, Files.createDirectories(dir.resolve("redis")));
  }
}
