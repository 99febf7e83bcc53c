package dev.featurebeam.pipelines.online;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.ValueParser;
import dev.featurebeam.transforms.features.EntityState;
import dev.featurebeam.transforms.features.StateParts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.annotation.Nullable;

/**
 * The Java API of the online store: the features of an entity, or of many, at an instant at or
 * after the latest event its stored state holds, computed from that state by the computation that
 * gives training rows and daily partitions ({@link EntityState#featuresAt}). A lookup reads the
 * state's tiles and the events of only the days its instant's window edges fall in ({@link
 * StateParts#daysReadAt}), in one atomic read. An entity the store
 * does not hold (never seen, or expired because no window reads its events any more) gets counts
 * 0, {@code exists} false and nulls, as in a training set.
 *
 * <p>Thread-safe: one instance serves many threads (Redis connections are pooled).
 */
public final class OnlineFeatures implements AutoCloseable {
  private final FeatureSpec spec;
  private final RedisStateStore store;
  private final StateParts parts;
  private final List<String> featureNames;
  /** What an entity with no stored state answers at any instant. */
  private final EntityState empty;

  private OnlineFeatures(FeatureSpec spec, RedisStateStore store) {
    this.spec = spec;
    this.store = store;
    this.parts = StateParts.of(spec);
    List<String> names = new ArrayList<>();
    for (FeatureDef f : spec.features()) {
      names.add(f.name());
    }
    this.featureNames = Collections.unmodifiableList(names);
    this.empty = parts.empty();
  }

  /** Opens the store at {@code url} (see {@link RedisStateStore#open}) for {@code spec}. */
  public static OnlineFeatures open(FeatureSpec spec, String url) {
    checkNotNull(spec, "a spec is needed");
    return new OnlineFeatures(spec, RedisStateStore.open(url));
  }

  /** As {@link #open(FeatureSpec, String)}, with a pool of {@code connections} to Redis. */
  public static OnlineFeatures open(FeatureSpec spec, String url, int connections) {
    checkNotNull(spec, "a spec is needed");
    return new OnlineFeatures(spec, RedisStateStore.open(url, connections));
  }

  public FeatureSpec spec() {
    return spec;
  }

  /** The features' names, in spec order: the order of {@link FeatureRow#values}. */
  public List<String> featureNames() {
    return featureNames;
  }

  /** Fails with {@link RedisStateStore.UnavailableException} unless Redis answers. */
  public void ping() {
    store.ping();
  }

  /**
   * {@code entity}'s features at {@code atMillis}.
   *
   * @throws TooEarlyException when the stored state holds an event at or after the instant
   * @throws RedisStateStore.UnavailableException when Redis does not answer in time
   */
  public FeatureRow get(String entity, long atMillis) {
    checkNotNull(entity, "an entity is needed");
    return row(entity, atMillis, store.read(key(entity), parts.daysReadAt(atMillis)));
  }

  /** The features of each of {@code entities} at {@code atMillis}, in their order, in one read. */
  public List<FeatureRow> getAll(List<String> entities, long atMillis) {
    checkNotNull(entities, "entities are needed");
    List<String> keys = new ArrayList<>(entities.size());
    for (String e : entities) {
      checkArgument(e != null, "an entity cannot be null");
      keys.add(key(e));
    }
    List<RedisStateStore.Stored> stored = store.readAll(keys, parts.daysReadAt(atMillis));
    List<FeatureRow> rows = new ArrayList<>(entities.size());
    for (int i = 0; i < entities.size(); i++) {
      rows.add(row(entities.get(i), atMillis, stored.get(i)));
    }
    return rows;
  }

  /**
   * An instant as {@code get --at} and the server's {@code at} take it, read as a training set's
   * spine reads its timestamps: ISO-8601 with Z or an offset, without a zone as UTC, a date as its
   * midnight UTC, or epoch milliseconds.
   *
   * @throws IllegalArgumentException naming the text and what is wrong with it
   */
  public static long parseInstant(String text) {
    checkArgument(text != null && !text.isBlank(), "an instant is needed, e.g. 2025-03-07T14:02:11Z");
    try {
      return ValueParser.parseTimestampMillis(text.strip(), ZoneOffset.UTC);
    } catch (ValueParser.BadValueException e) {
      throw new IllegalArgumentException("'" + text + "' is not an instant (" + e.getMessage()
          + "); e.g. 2025-03-07T14:02:11.345Z or epoch milliseconds");
    }
  }

  private String key(String entity) {
    return RedisStateStore.key(spec.featureSet(), spec.version(), entity);
  }

  private FeatureRow row(String entity, long at, @Nullable RedisStateStore.Stored stored) {
    if (stored == null) {
      return new FeatureRow(entity, at, empty.featuresAt(at), false, Long.MIN_VALUE,
          Long.MIN_VALUE, 0);
    }
    if (at < stored.latest()) {
      throw new TooEarlyException(entity, at, stored.latest());
    }
    EntityState state = decode(stored);
    return new FeatureRow(entity, at, state.featuresAt(at), true, stored.latest(),
        stored.watermark(), stored.count());
  }

  private EntityState decode(RedisStateStore.Stored stored) {
    try {
      return parts.assemble(stored.tiles(), stored.events());
    } catch (IOException | RuntimeException e) {
      throw new UncheckedIOException("a stored state does not decode for this spec (was it"
          + " written for another version of the spec?)",
          e instanceof IOException io ? io : new IOException(e));
    }
  }

  @Override
  public void close() {
    store.close();
  }

  @Override
  public String toString() {
    return spec.featureSet() + " v" + spec.version() + " at " + store;
  }

  /**
   * The instant asked for is before the latest event the stored state holds: the state no longer
   * knows that past; a training set computes it from the events.
   */
  public static final class TooEarlyException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String entity;

    TooEarlyException(String entity, long at, long latest) {
      super(String.format("%s is before the latest event the online state of %s holds (%s): the"
          + " online store answers at or after it; compute earlier instants with training-set",
          java.time.Instant.ofEpochMilli(at), entity, java.time.Instant.ofEpochMilli(latest)));
      this.entity = entity;
    }

    public String entity() {
      return entity;
    }
  }
}
