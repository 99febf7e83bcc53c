package dev.featurebeam.io.online;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.annotation.Nullable;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The online store's entity states in Redis: per (feature set, version, entity) one hash under
 * {@code fb:<feature_set>:v<version>:<entity>} with the encoded state ({@code state}), the time of
 * the latest event it includes ({@code latest}, epoch ms), how many events it includes ({@code
 * count}) and the watermark it was written at ({@code watermark}, epoch ms: the writer had every
 * event before it). A batch run also keeps its state as the entity's base ({@code base}, {@code
 * base_watermark}): a stream that starts fresh computes from the base plus the topic's events at or
 * after its watermark, so it never adds an event twice, whatever an earlier stream wrote.
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
  /** Jedis's own default pool size. */
  static final int DEFAULT_CONNECTIONS = 8;

  /**
   * KEYS[1] the hash; ARGV: state, latest, count, watermark, expire-at ms (0: never), and "1" when
   * the state is also a batch's base. Returns 1 when the state was written, plus 2 when the base
   * was.
   */
  private static final String GUARDED_WRITE = String.join("\n",
      "local cur = redis.call('HMGET', KEYS[1], 'latest', 'count', 'base_watermark')",
      "local result = 0",
      "if ARGV[6] == '1' and (not cur[3] or tonumber(ARGV[4]) >= tonumber(cur[3])) then",
      "  redis.call('HSET', KEYS[1], 'base', ARGV[1], 'base_watermark', ARGV[4])",
      "  result = 2",
      "end",
      "if cur[1] then",
      "  local l, c = tonumber(cur[1]), tonumber(cur[2])",
      "  local nl, nc = tonumber(ARGV[2]), tonumber(ARGV[3])",
      "  if nl < l or (nl == l and nc < c) then return result end",
      "end",
      "redis.call('HSET', KEYS[1], 'state', ARGV[1], 'latest', ARGV[2], 'count', ARGV[3],",
      "  'watermark', ARGV[4])",
      "if tonumber(ARGV[5]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[5])",
      "else redis.call('PERSIST', KEYS[1]) end",
      "return result + 1");

  private static final byte[][] FIELDS = {
      bytes("state"), bytes("latest"), bytes("count"), bytes("watermark")};
  private static final byte[][] BASE_FIELDS = {bytes("base"), bytes("base_watermark")};

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
    return open(url, DEFAULT_CONNECTIONS);
  }

  /**
   * As {@link #open(String)}, with at most {@code connections} pooled connections; a caller waits
   * at most {@link #TIMEOUT_MS} for a free one (a server sizes the pool to its threads).
   */
  public static RedisStateStore open(String url, int connections) {
    checkNotNull(url, "a redis:// URL is needed");
    checkArgument(connections > 0, "at least one connection is needed, not %s", connections);
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
    ConnectionPoolConfig pool = new ConnectionPoolConfig();
    pool.setMaxTotal(connections);
    pool.setMaxIdle(connections);
    pool.setMaxWait(Duration.ofMillis(TIMEOUT_MS));
    return new RedisStateStore(location,
        new JedisPooled(new HostAndPort(uri.getHost(), uri.getPort()), config, pool));
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
      throw new UnavailableException("the online store " + location + " does not answer: "
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
    return (eval(key, state, latest, count, watermark, expireAtMillis, false) & 1) != 0;
  }

  /**
   * A batch run's write: as {@link #write}, and the state is also kept as the entity's base (what
   * a stream starts from, see {@link #readBase}) unless a base of a later watermark is stored.
   * Returns whether the state (not the base) was written.
   */
  public boolean writeWithBase(String key, byte[] state, long latest, long count, long watermark,
      long expireAtMillis) {
    return (eval(key, state, latest, count, watermark, expireAtMillis, true) & 1) != 0;
  }

  private long eval(String key, byte[] state, long latest, long count, long watermark,
      long expireAtMillis, boolean base) {
    List<byte[]> args = args(state, latest, count, watermark, expireAtMillis, base);
    List<byte[]> keys = List.of(bytes(key));
    Object result;
    try {
      try {
        result = redis.evalsha(sha(), keys, args);
      } catch (JedisNoScriptException e) { // Redis restarted or its script cache was flushed
        synchronized (this) {
          sha = null;
        }
        result = redis.evalsha(sha(), keys, args);
      }
    } catch (JedisException e) {
      throw unavailable(e);
    }
    return (Long) result;
  }

  /** One guarded write of {@link #writeAll}: the arguments of {@link #write}. */
  public record Write(String key, byte[] state, long latest, long count, long watermark,
      long expireAtMillis) {}

  /**
   * {@link #write}s each of {@code writes} in one pipelined round trip; returns, in their order,
   * whether each was written. Each write is guarded as {@link #write}'s; together they are not
   * atomic: when Redis fails midway some may have been applied, and writing them all again is
   * safe (the guard refuses what is not newer).
   */
  public boolean[] writeAll(List<Write> writes) {
    for (int attempt = 0; ; attempt++) {
      byte[] script = sha();
      List<Response<Object>> responses = new ArrayList<>(writes.size());
      try (Pipeline pipeline = redis.pipelined()) {
        for (Write w : writes) {
          responses.add(pipeline.evalsha(script, List.of(bytes(w.key())), args(w.state(),
              w.latest(), w.count(), w.watermark(), w.expireAtMillis(), false)));
        }
        pipeline.sync();
      } catch (JedisException e) {
        throw unavailable(e);
      }
      boolean[] written = new boolean[writes.size()];
      try {
        for (int i = 0; i < written.length; i++) {
          written[i] = ((Long) responses.get(i).get() & 1) != 0;
        }
        return written;
      } catch (JedisNoScriptException e) {
        // Redis restarted or its script cache was flushed: load it again, write them all again.
        synchronized (this) {
          sha = null;
        }
        if (attempt > 0) {
          throw unavailable(e);
        }
      } catch (JedisException e) {
        throw unavailable(e);
      }
    }
  }

  /** GUARDED_WRITE's ARGV. */
  private static List<byte[]> args(byte[] state, long latest, long count, long watermark,
      long expireAtMillis, boolean base) {
    return List.of(state, bytes(Long.toString(latest)), bytes(Long.toString(count)),
        bytes(Long.toString(watermark)), bytes(Long.toString(Math.max(0, expireAtMillis))),
        bytes(base ? "1" : "0"));
  }

  private synchronized byte[] sha() {
    if (sha == null) {
      sha = redis.scriptLoad(bytes(GUARDED_WRITE), bytes("featurebeam"));
    }
    return sha;
  }

  /** The state stored under {@code key}, or null. */
  public @Nullable Stored read(String key) {
    try {
      return stored(redis.hmget(bytes(key), FIELDS));
    } catch (JedisException e) {
      throw unavailable(e);
    }
  }

  /**
   * The states stored under {@code keys}, in their order (null where none), in one round trip.
   */
  public List<Stored> readAll(List<String> keys) {
    List<Response<List<byte[]>>> responses = new ArrayList<>(keys.size());
    try (Pipeline pipeline = redis.pipelined()) {
      for (String key : keys) {
        responses.add(pipeline.hmget(bytes(key), FIELDS));
      }
      pipeline.sync();
    } catch (JedisException e) {
      throw unavailable(e);
    }
    List<Stored> states = new ArrayList<>(keys.size());
    for (Response<List<byte[]>> r : responses) {
      states.add(stored(r.get()));
    }
    return states;
  }

  /**
   * The base a batch run stored under {@code key} (see {@link #writeWithBase}), or null: its
   * state, with {@link Stored#watermark} the instant before which it holds every event. Its
   * latest and count are not kept (0).
   */
  public @Nullable Stored readBase(String key) {
    List<byte[]> values;
    try {
      values = redis.hmget(bytes(key), BASE_FIELDS);
    } catch (JedisException e) {
      throw unavailable(e);
    }
    return values.get(0) == null ? null : new Stored(values.get(0), 0, 0, number(values.get(1)));
  }

  private static @Nullable Stored stored(List<byte[]> values) {
    if (values.get(0) == null) {
      return null;
    }
    return new Stored(values.get(0), number(values.get(1)), number(values.get(2)),
        number(values.get(3)));
  }

  private static long number(@Nullable byte[] value) {
    return value == null ? 0 : Long.parseLong(new String(value, StandardCharsets.UTF_8));
  }

  /**
   * A connection failure, a timeout, no free pooled connection, or a Redis still loading its data
   * after a restart is "unavailable"; any other error Redis answers is itself.
   */
  private RuntimeException unavailable(JedisException e) {
    if (e instanceof JedisDataException && !String.valueOf(e.getMessage()).startsWith("LOADING")) {
      return e;
    }
    return new UnavailableException("the online store " + location + " does not answer: "
        + e.getClass().getSimpleName(), e);
  }

  /** Redis did not answer (down, unreachable, or slower than {@link #TIMEOUT_MS}). */
  public static final class UnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    UnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
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
