package dev.featurebeam.pipelines;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.Jedis;

/** A redis-server of a test's own on loopback, which the test may kill and start again. */
public final class PrivateRedis {
  private PrivateRedis() {}

  /**
   * Starts redis-server on {@code port} with its dump ({@code dump.rdb}, written only by SAVE) and
   * log in {@code data}, and returns once it answers PING.
   */
  public static Process start(int port, Path data) throws Exception {
    Process p = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind",
        "127.0.0.1", "--dir", data.toString(), "--dbfilename", "dump.rdb", "--save", "",
        "--appendonly", "no")
        .redirectErrorStream(true).redirectOutput(data.resolve("redis.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Jedis j = new Jedis("127.0.0.1", port)) {
        if (j.ping().equals("PONG")) {
          return p;
        }
      } catch (RuntimeException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("redis-server did not start: " + Files.readString(data.resolve("redis.log")));
  }
}
