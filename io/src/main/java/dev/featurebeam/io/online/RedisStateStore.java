package dev.featurebeam.io.online;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
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
 * The online store's entity states in Redis, per (feature set, version, entity) in parts, so that
 * a stream's write costs what changed and a lookup reads what its instant needs:
 *
 * <ul>
 *   <li>a hash under {@code fb:<feature_set>:v<version>:<entity>} ({@link #key}) with the state's
 *       tiles ({@code tiles}: everything but the events, small), the time of the latest event it
 *       includes ({@code latest}, epoch ms), how many events it includes ({@code count}), their
 *       digest ({@code digest}, which tells apart states of equal latest and count that hold other
 *       events), the watermark it was written at ({@code watermark}, epoch ms: the writer had every
 *       event before it) and the days whose events are kept one by one ({@code days});
 *   <li>per kept day a string ({@link #dayKey}) holding that day's events, each length-prefixed,
 *       so that new events are APPENDed. It shares the hash's hash tag, so one script may touch
 *       both on Redis Cluster (unless the entity itself holds braces that make another tag).
 * </ul>
 *
 * <p>A batch run also keeps its whole state, one blob, as the entity's base ({@code base}, {@code
 * base_watermark}): a stream that starts fresh computes from the base plus the topic's events at
 * or after its watermark, so it never adds an event twice, whatever an earlier stream wrote.
 *
 * <p>Never backwards, inside Redis by one Lua script: a {@linkplain Write#isWhole whole} write is
 * refused unless its (latest, count) is at least the stored one's (equal is written again: an
 * idempotent replay); a delta (the new events of some days, the new tiles) names the version
 * (latest, count, digest) it was computed on and is applied only when Redis holds exactly that
 * version; it is refused when Redis holds a newer one, taken as done when Redis holds its own,
 * and otherwise answered {@link Outcome#STALE} so that the writer sends the whole state. Days
 * the new state no longer keeps (folded, or emptied) are deleted by the same script, and every
 * key of the entity expires at the same instant (when no window can read the latest event), or
 * never for a spec with a whole-history feature.
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
   * KEYS[1] the hash, KEYS[2..] the day keys written. ARGV: 1 'w' (whole) or 'd' (delta), 2 tiles,
   * 3 latest, 4 count, 5 digest, 6 watermark, 7 expire-at ms (0: never), 8-10 the delta's base
   * latest, count and digest, 11 the kept days (space-separated), 12 the day keys' prefix, 13 "1"
   * when the write carries a batch's base, 14 the base, then per day key its op ('a' APPEND, 's'
   * SET) and its bytes. Returns 1 when written (or a delta already held), 4 when a delta's base is
   * not what Redis holds, 0 when refused; plus 2 when the base was written.
   */
  private static final String GUARDED_WRITE = String.join("\n",
      "local h = KEYS[1]",
      "local cur = redis.call('HMGET', h, 'latest', 'count', 'digest', 'days', 'base_watermark')",
      "local result = 0",
      "if ARGV[13] == '1' and (not cur[5] or tonumber(ARGV[6]) >= tonumber(cur[5])) then",
      "  redis.call('HSET', h, 'base', ARGV[14], 'base_watermark', ARGV[6])",
      "  result = 2",
      "end",
      "local nl, nc = tonumber(ARGV[3]), tonumber(ARGV[4])",
      "local newer = false",
      "if cur[1] then",
      "  local l, c = tonumber(cur[1]), tonumber(cur[2])",
      "  newer = nl < l or (nl == l and nc < c)",
      "end",
      "if ARGV[1] == 'd' and not (cur[1] == ARGV[8] and cur[2] == ARGV[9] and cur[3] == ARGV[10]) then",
      "  if newer then return result end",
      "  if cur[1] == ARGV[3] and cur[2] == ARGV[4] and cur[3] == ARGV[5] then return result + 1 end",
      "  return result + 4",
      "end",
      "if ARGV[1] == 'w' and newer then return result end",
      "local keep = {}",
      "for d in string.gmatch(ARGV[11], '%S+') do keep[d] = true end",
      "if cur[4] then",
      "  for d in string.gmatch(cur[4], '%S+') do",
      "    if not keep[d] then redis.call('DEL', ARGV[12] .. d) end",
      "  end",
      "end",
      "for i = 2, #KEYS do",
      "  if ARGV[13 + 2 * (i - 1)] == 'a' then redis.call('APPEND', KEYS[i], ARGV[14 + 2 * (i - 1)])",
      "  else redis.call('SET', KEYS[i], ARGV[14 + 2 * (i - 1)]) end",
      "end",
      "redis.call('HSET', h, 'tiles', ARGV[2], 'latest', ARGV[3], 'count', ARGV[4], 'digest',",
      "  ARGV[5], 'watermark', ARGV[6], 'days', ARGV[11])",
      "if ARGV[1] == 'w' then redis.call('HDEL', h, 'state') end",
      "local at = tonumber(ARGV[7])",
      "for d in string.gmatch(ARGV[11], '%S+') do",
      "  if at > 0 then redis.call('PEXPIREAT', ARGV[12] .. d, ARGV[7])",
      "  else redis.call('PERSIST', ARGV[12] .. d) end",
      "end",
      "if at > 0 then redis.call('PEXPIREAT', h, ARGV[7]) else redis.call('PERSIST', h) end",
      "return result + 1");

  /**
   * KEYS[1] the hash, KEYS[2..] day keys: the hash's latest, count, digest, watermark and tiles,
   * then each day key's bytes (false when absent), read at one instant.
   */
  private static final String READ = String.join("\n",
      "local out = redis.call('HMGET', KEYS[1], 'latest', 'count', 'digest', 'watermark', 'tiles')",
      "for i = 2, #KEYS do out[#out + 1] = redis.call('GET', KEYS[i]) end",
      "return out");

  private static final byte[][] BASE_FIELDS = {bytes("base"), bytes("base_watermark")};

  private final String location;
  private final JedisPooled redis;
  private byte[] sha;
  private byte[] readSha;

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
   * The key of day {@code day}'s events of the entity whose hash is {@code key}: the hash's own
   * hash tag when it has one, else the whole hash key as the tag, so both hash to one slot.
   */
  public static String dayKey(String key, long day) {
    return dayPrefix(key) + day;
  }

  private static String dayPrefix(String key) {
    int open = key.indexOf('{');
    int close = open < 0 ? -1 : key.indexOf('}', open + 1);
    // Redis Cluster hashes only the first non-empty {...}; without one, the whole key.
    return (close > open + 1 ? key : "{" + key + "}") + ":";
  }

  /** What identifies a stored state: its latest event, its count of events and their digest. */
  public record Version(long latest, long count, long digest) {}

  /** One day's events in a write: all of them ({@code append} false) or those to append. */
  public record DayEvents(long day, boolean append, byte[] events) {}

  /**
   * One guarded write of an entity: the state's tiles, {@code version}, the watermark it was
   * written at, when its keys expire (0: never), the days it keeps ({@code days}, ascending) and
   * the events of the days that changed. A whole write ({@code base} null) carries every kept
   * day's events whole; a delta carries, for the days that changed since {@code base}, the events
   * to append or (after a removal) the day whole.
   */
  public record Write(String key, byte[] tiles, Version version, long watermark,
      long expireAtMillis, @Nullable Version base, long[] days, List<DayEvents> events) {
    public Write {
      checkNotNull(key, "a key is needed");
      checkNotNull(tiles, "tiles are needed");
      checkNotNull(version, "a version is needed");
      checkNotNull(days, "the kept days are needed");
      checkNotNull(events, "the days' events are needed");
      for (DayEvents d : events) {
        checkArgument(base != null || !d.append(), "a whole write appends nothing");
      }
    }

    public boolean isWhole() {
      return base == null;
    }

    /**
     * This write followed by {@code next}, a delta computed on top of this one's version, as one
     * write: next's tiles and version, this one's base, and per day this one's events then
     * next's (next's alone when it sends the day whole).
     */
    public Write then(Write next) {
      checkArgument(next.key.equals(key), "writes of two keys");
      checkArgument(!next.isWhole() && next.base.equals(version),
          "%s is not a delta on top of %s", next.base, version);
      java.util.Map<Long, DayEvents> merged = new java.util.TreeMap<>();
      for (DayEvents d : events) {
        merged.put(d.day(), d);
      }
      for (DayEvents d : next.events) {
        DayEvents before = merged.get(d.day());
        if (before == null || !d.append()) {
          merged.put(d.day(), d);
        } else {
          merged.put(d.day(), new DayEvents(d.day(), before.append(),
              concat(before.events(), d.events())));
        }
      }
      java.util.Set<Long> kept = new java.util.HashSet<>();
      for (long d : next.days) {
        kept.add(d);
      }
      merged.keySet().retainAll(kept); // the script deletes the days next no longer keeps
      return new Write(key, next.tiles, next.version, next.watermark, next.expireAtMillis, base,
          next.days, new ArrayList<>(merged.values()));
    }

    /** The bytes it carries (its tiles and events). */
    public long size() {
      long n = tiles.length;
      for (DayEvents d : events) {
        n += d.events().length;
      }
      return n;
    }
  }

  /** What a guarded write did. */
  public enum Outcome {
    /** Redis holds the write's state now. */
    WRITTEN,
    /** Redis holds a newer state; nothing changed. */
    REFUSED,
    /** A delta whose base Redis does not hold; nothing changed: send the whole state. */
    STALE
  }

  /** Applies {@code write} under the guard (see the class comment). */
  public Outcome write(Write write) {
    return outcome(evalWrite(write, null));
  }

  /**
   * A batch run's whole write: as {@link #write}, and {@code base} (the whole state, one blob) is
   * also kept as the entity's base (what a stream starts from, see {@link #readBase}) unless a
   * base of a later watermark is stored. Returns what happened to the state (not the base).
   */
  public Outcome writeWithBase(Write write, byte[] base) {
    checkArgument(write.isWhole(), "a base goes with a whole write");
    checkNotNull(base, "a base is needed");
    return outcome(evalWrite(write, base));
  }

  private static Outcome outcome(long result) {
    long state = result & 5;
    return state == 1 ? Outcome.WRITTEN : state == 4 ? Outcome.STALE : Outcome.REFUSED;
  }

  private long evalWrite(Write write, @Nullable byte[] base) {
    return (Long) withScripts(() -> redis.evalsha(sha(), keys(write), args(write, base)));
  }

  /**
   * Runs {@code call}, which evaluates this store's scripts by their SHA, once more when Redis
   * no longer has them (it restarted, or its script cache was flushed); any other failure, or
   * losing them twice, is Redis being unavailable.
   */
  private <T> T withScripts(Supplier<T> call) {
    try {
      try {
        return call.get();
      } catch (JedisNoScriptException e) {
        forgetScripts();
        return call.get();
      }
    } catch (JedisException e) {
      throw unavailable(e);
    }
  }

  /**
   * {@link #write}s each of {@code writes} in one pipelined round trip; returns, in their order,
   * what each did. Each write is guarded as {@link #write}'s; together they are not atomic: when
   * Redis fails midway some may have been applied, and sending them all again is safe (the guard
   * refuses what is older and takes a delta it already holds as done).
   */
  public Outcome[] writeAll(List<Write> writes) {
    return withScripts(() -> {
      List<Response<Object>> responses = new ArrayList<>(writes.size());
      try (Pipeline pipeline = redis.pipelined()) {
        byte[] script = sha();
        for (Write w : writes) {
          responses.add(pipeline.evalsha(script, keys(w), args(w, null)));
        }
        pipeline.sync();
      }
      Outcome[] done = new Outcome[writes.size()];
      for (int i = 0; i < done.length; i++) {
        done[i] = outcome((Long) responses.get(i).get());
      }
      return done;
    });
  }


  private static List<byte[]> keys(Write w) {
    List<byte[]> keys = new ArrayList<>(1 + w.events().size());
    keys.add(bytes(w.key()));
    String prefix = dayPrefix(w.key());
    for (DayEvents d : w.events()) {
      keys.add(bytes(prefix + d.day()));
    }
    return keys;
  }

  /** GUARDED_WRITE's ARGV. */
  private static List<byte[]> args(Write w, @Nullable byte[] base) {
    List<byte[]> args = new ArrayList<>(14 + 2 * w.events().size());
    Version b = w.base() == null ? new Version(0, 0, 0) : w.base();
    StringBuilder days = new StringBuilder();
    for (long d : w.days()) {
      days.append(days.length() == 0 ? "" : " ").append(d);
    }
    args.add(bytes(w.isWhole() ? "w" : "d"));
    args.add(w.tiles());
    args.add(number(w.version().latest()));
    args.add(number(w.version().count()));
    args.add(number(w.version().digest()));
    args.add(number(w.watermark()));
    args.add(number(Math.max(0, w.expireAtMillis())));
    args.add(number(b.latest()));
    args.add(number(b.count()));
    args.add(number(b.digest()));
    args.add(bytes(days.toString()));
    args.add(bytes(dayPrefix(w.key())));
    args.add(bytes(base == null ? "0" : "1"));
    args.add(base == null ? new byte[0] : base);
    for (DayEvents d : w.events()) {
      args.add(bytes(d.append() ? "a" : "s"));
      args.add(d.events());
    }
    return args;
  }

  private static byte[] number(long n) {
    return bytes(Long.toString(n));
  }

  private synchronized byte[] sha() {
    if (sha == null) {
      sha = redis.scriptLoad(bytes(GUARDED_WRITE), bytes("featurebeam"));
    }
    return sha;
  }

  private synchronized byte[] readSha() {
    if (readSha == null) {
      readSha = redis.scriptLoad(bytes(READ), bytes("featurebeam"));
    }
    return readSha;
  }

  private synchronized void forgetScripts() {
    sha = null;
    readSha = null;
  }

  /**
   * The state stored under {@code key} with the events of {@code days} (those a lookup's instant
   * needs; the tiles answer for the others), read at one instant; null when none is stored.
   */
  public @Nullable Stored read(String key, long[] days) {
    return readAll(List.of(key), days).get(0);
  }

  /**
   * The states stored under {@code keys}, in their order (null where none), each with the events
   * of {@code days}, in one round trip; each is read at one instant.
   */
  public List<Stored> readAll(List<String> keys, long[] days) {
    return withScripts(() -> {
      List<Response<Object>> responses = new ArrayList<>(keys.size());
      try (Pipeline pipeline = redis.pipelined()) {
        byte[] script = readSha();
        for (String key : keys) {
          List<byte[]> k = new ArrayList<>(1 + days.length);
          k.add(bytes(key));
          String prefix = dayPrefix(key);
          for (long d : days) {
            k.add(bytes(prefix + d));
          }
          responses.add(pipeline.evalsha(script, k, List.of()));
        }
        pipeline.sync();
      }
      List<Stored> states = new ArrayList<>(keys.size());
      for (int i = 0; i < keys.size(); i++) {
        states.add(stored(keys.get(i), (List<?>) responses.get(i).get(), days));
      }
      return states;
    });
  }

  /**
   * The base a batch run stored under {@code key} (see {@link #writeWithBase}), or null: its
   * whole state, and the instant before which it holds every event.
   */
  public @Nullable Base readBase(String key) {
    List<byte[]> values;
    try {
      values = redis.hmget(bytes(key), BASE_FIELDS);
    } catch (JedisException e) {
      throw unavailable(e);
    }
    return values.get(0) == null ? null : new Base(values.get(0), number(values.get(1)));
  }

  /**
   * {@link #readBase} of each of {@code keys}, in their order (null where none), in one round
   * trip.
   */
  public List<Base> readBases(List<String> keys) {
    List<Response<List<byte[]>>> responses = new ArrayList<>(keys.size());
    try (Pipeline pipeline = redis.pipelined()) {
      for (String key : keys) {
        responses.add(pipeline.hmget(bytes(key), BASE_FIELDS));
      }
      pipeline.sync();
    } catch (JedisException e) {
      throw unavailable(e);
    }
    List<Base> bases = new ArrayList<>(keys.size());
    for (Response<List<byte[]>> r : responses) {
      List<byte[]> values = r.get();
      bases.add(values.get(0) == null ? null : new Base(values.get(0), number(values.get(1))));
    }
    return bases;
  }

  /** A batch run's base: its whole state (one blob) and its watermark. */
  public record Base(byte[] state, long watermark) {}

  private static @Nullable Stored stored(String key, List<?> values, long[] days) {
    if (values.get(4) == null) {
      if (values.get(0) != null) {
        throw new IllegalStateException("the online state under " + key + " is in an earlier"
            + " layout (one 'state' field); load the store again with a batch run");
      }
      return null;
    }
    java.util.Map<Long, byte[]> events = new java.util.HashMap<>();
    for (int i = 0; i < days.length; i++) {
      events.put(days[i], (byte[]) values.get(5 + i)); // null: no events that day
    }
    return new Stored((byte[]) values.get(4), number((byte[]) values.get(0)),
        number((byte[]) values.get(1)), number((byte[]) values.get(2)),
        number((byte[]) values.get(3)), events);
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

  /**
   * One stored state: its tiles, what the guard compares, its watermark, and the events of the
   * days read (a day mapped to null has none).
   */
  public record Stored(byte[] tiles, long latest, long count, long digest, long watermark,
      java.util.Map<Long, byte[]> events) {}

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

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
