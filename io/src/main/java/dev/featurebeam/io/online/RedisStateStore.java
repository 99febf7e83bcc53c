package dev.featurebeam.io.online;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The online store's entity states in Redis: per (feature set, version, entity) one hash under
 * {@code fb:<feature_set>:v<version>:<entity>} with the encoded state ({@code state}), the time of
 * the latest event it includes ({@code latest}, epoch ms), how many events it includes ({@code
 * count}) and the watermark it was written at ({@code watermark}, epoch ms).
 *
 * <p>Never backwards: a write is refused unless its (latest, count) is at least the stored one's,
 * compared inside Redis by one Lua script, so that replays after a restart, a batch refresh racing
 * the stream, or two writers can never replace a state with one that includes less. Equal
 * (latest, count) is written again (an idempotent replay).
 *
 * <p>Jedis, not Beam's RedisIO: RedisIO writes strings with APPEND/SET and has no guarded write.
 * Every call waits at most {@link #TIMEOUT_MS} for Redis. Thread-safe (a pooled client).
 */
public final class RedisStateStore implements AutoCloseable {
  /** The longest a connection or a command waits for Redis. */
  public static final int TIMEOUT_MS = 2_000;

  /** KEYS[1] the hash; ARGV: state, latest, count, watermark, expire-at ms (0: never). */
  private static final String GUARDED_WRITE = String.join("\n",
      "local cur = redis.call('HMGET', KEYS[1], 'latest', 'count')",
      "if cur[1] then",
      "  local l, c = tonumber(cur[1]), tonumber(cur[2])",
      "  local nl, nc = tonumber(ARGV[2]), tonumber(ARGV[3])",
      "  if nl < l or (nl == l and nc < c) then return 0 end",
      "end",
      "redis.call('HSET', KEYS[1], 'state', ARGV[1], 'latest', ARGV[2], 'count', ARGV[3],",
      "  'watermark', ARGV[4])",
      "if tonumber(ARGV[5]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[5])",
      "else redis.call('PERSIST', KEYS[1]) end",
      "return 1");

  private final String location;
  private final JedisPooled redis;
  private byte[] sha;

  private RedisStateStore(String location, JedisPooled redis) {
    this.location = location;
    this.redis = redis;
  }

  /**
   * Opens {@code redis://[USER:PASSWORD@]HOST:PORT[/DB]}. Without a password in the URL, the
   * environment's {@code REDIS_PASSWORD} is used when set. The password never appears in {@link
   * #toString} or in an error.
   */
  public static RedisStateStore open(String url) {
    checkNotNull(url, "a redis:// URL is needed");
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a redis:// URL: " + redact(url));
    }
    checkArgument("redis".equals(uri.getScheme()) && uri.getHost() != null && uri.getPort() > 0,
        "an online store is redis://[USER:PASSWORD@]HOST:PORT[/DB], not %s", redact(url));
    String user = null;
    String password = System.getenv("REDIS_PASSWORD");
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getUserInfo().split(":", 2);
      user = parts.length == 2 && !parts[0].isEmpty() ? parts[0] : null;
      password = parts.length == 2 ? parts[1] : parts[0];
    }
    int db = 0;
    String path = uri.getPath();
    if (path != null && path.length() > 1) {
      try {
        db = Integer.parseInt(path.substring(1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("the database of " + redact(url)
            + " must be a number, not " + path.substring(1));
      }
    }
    DefaultJedisClientConfig config = DefaultJedisClientConfig.builder()
        .user(user).password(password).database(db)
        .connectionTimeoutMillis(TIMEOUT_MS).socketTimeoutMillis(TIMEOUT_MS)
        .clientName("featurebeam").build();
    String location = "redis://" + uri.getHost() + ":" + uri.getPort() + "/" + db;
    return new RedisStateStore(location,
        new JedisPooled(new HostAndPort(uri.getHost(), uri.getPort()), config));
  }

  /** The URL without its credentials, for display and messages. */
  public static String describe(String url) {
    return redact(url);
  }

  /** Fails, naming the store, unless Redis answers within {@link #TIMEOUT_MS}. */
  public void ping() {
    try {
      redis.ping();
    } catch (RuntimeException e) {
      throw new IllegalStateException("the online store " + location + " does not answer: "
          + e.getClass().getSimpleName(), e);
    }
  }

  /** The key of an entity's state. */
  public static String key(String featureSet, int version, String entity) {
    return "fb:" + featureSet + ":v" + version + ":" + entity;
  }

  /**
   * Writes {@code state} under {@code key} unless the stored state includes more; returns whether
   * it was written. {@code expireAtMillis} 0 keeps the key for good.
   */
  public boolean write(String key, byte[] state, long latest, long count, long watermark,
      long expireAtMillis) {
    List<byte[]> args = List.of(state, bytes(Long.toString(latest)), bytes(Long.toString(count)),
        bytes(Long.toString(watermark)), bytes(Long.toString(Math.max(0, expireAtMillis))));
    List<byte[]> keys = List.of(bytes(key));
    Object result;
    try {
      result = redis.evalsha(sha(), keys, args);
    } catch (JedisNoScriptException e) { // Redis restarted or its script cache was flushed
      synchronized (this) {
        sha = null;
      }
      result = redis.evalsha(sha(), keys, args);
    }
    return Long.valueOf(1).equals(result);
  }

  private synchronized byte[] sha() {
    if (sha == null) {
      sha = redis.scriptLoad(bytes(GUARDED_WRITE), bytes("featurebeam"));
    }
    return sha;
  }

  /** The state stored under {@code key}, or null. */
  public @Nullable Stored read(String key) {
    Map<byte[], byte[]> hash = redis.hgetAll(bytes(key));
    byte[] state = null;
    long latest = 0;
    long count = 0;
    long watermark = 0;
    for (Map.Entry<byte[], byte[]> e : hash.entrySet()) {
      String field = new String(e.getKey(), StandardCharsets.UTF_8);
      switch (field) {
        case "state":
          state = e.getValue();
          break;
        case "latest":
          latest = Long.parseLong(new String(e.getValue(), StandardCharsets.UTF_8));
          break;
        case "count":
          count = Long.parseLong(new String(e.getValue(), StandardCharsets.UTF_8));
          break;
        case "watermark":
          watermark = Long.parseLong(new String(e.getValue(), StandardCharsets.UTF_8));
          break;
        default:
          break;
      }
    }
    return state == null ? null : new Stored(state, latest, count, watermark);
  }

  /** One stored state and what the guard compares. */
  public static final class Stored {
    private final byte[] state;
    private final long latest;
    private final long count;
    private final long watermark;

    Stored(byte[] state, long latest, long count, long watermark) {
      this.state = state;
      this.latest = latest;
      this.count = count;
      this.watermark = watermark;
    }

    public byte[] state() {
      return state.clone();
    }

    public long latest() {
      return latest;
    }

    public long count() {
      return count;
    }

    public long watermark() {
      return watermark;
    }
  }

  @Override
  public void close() {
    redis.close();
  }

  /** The store's host, port and database, never its credentials. */
  @Override
  public String toString() {
    return location;
  }

  private static String redact(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
