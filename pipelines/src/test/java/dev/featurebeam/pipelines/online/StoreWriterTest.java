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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/** The online writer's queue on a private redis-server that is killed and started again. */
class StoreWriterTest {
  @TempDir Path dir;

  private static RedisStateStore.Write write(String key, String state, long latest, long count) {
    return new RedisStateStore.Write(key, state.getBytes(StandardCharsets.UTF_8), latest, count,
        latest, 0);
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
      // A later write of a key replaces its waiting one; an older one is refused by the guard.
      store.write("k0", "newer".getBytes(StandardCharsets.UTF_8), 50, 1, 50, 0);
      writer.submit(write("k0", "older", 10, 1));
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

      // Redis dies: writes wait, drain waits with them, and both finish once Redis is back.
      redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      for (int i = 1; i <= 300; i++) {
        writer.submit(write("k" + i, "third-" + i, i + 2, 3));
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
      assertThat(writer.takeCounts()[2], greaterThan(0L));
      for (int i = 1; i <= 300; i++) {
        assertThat(read(port, "k" + i), equalTo("third-" + i));
      }
    } finally {
      redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static String read(int port, String key) {
    try (Jedis j = new Jedis("127.0.0.1", port)) {
      return j.hget(key, "state");
    }
  }

  private Process startRedis(int port) throws Exception {
    return PrivateRedis.start(port, Files.createDirectories(dir.resolve("redis")));
  }
}
