package dev.featurebeam.pipelines.online;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.EventRows;
import dev.featurebeam.transforms.features.EntityState;
import dev.featurebeam.transforms.features.StateParts;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * A stream's writer of the online store: per entity, keyed state holding its {@link LiveEntity}
 * (the {@link EntityState} and the dedup keys' copies). Valid, cleaned events are buffered as they
 * come; at most {@link #FLUSH_DELAY} after the first of them (a processing-time timer) they are
 * applied and the state, when it changed, goes to Redis by {@link RedisStateStore}'s guarded
 * write, so that the store is within a second of the events and a busy entity costs a few writes
 * a second, not one an event. A write is a delta (the days' new events and the tiles, see {@link
 * LiveEntity#nextWrite}), so it costs the events since the last one, not the entity's whole
 * state; when Redis does not hold what a delta builds on (a restart, another writer) it answers
 * so, and the bundle's end sends that entity's whole state. The writes are sent by a {@link
 * StoreWriter} beside the step, in pipelined batches, and are all in Redis when the bundle ends.
 *
 * <p>The first event of an entity this stream has no state for starts from the base a batch run
 * stored (see {@link RedisStateStore#writeWithBase}): events before the base's watermark are in
 * it already. A restored stream starts from its checkpointed state; its replayed writes are
 * refused by the guard until it has caught up, so the store never moves back. A write Redis does
 * not take (down, restarting) is sent again every {@link #RETRY_DELAY} and the bundle's end
 * waits for it, so the stream waits for Redis; nothing is dropped.
 *
 * <p>The written watermark is the latest event time this worker has read less the stream's
 * watermark lag ({@code --maxOutOfOrderness} plus {@code --allowedLateness}): the writer's
 * estimate of the instant before which it has every event.
 */
public final class OnlineStoreUpdates extends PTransform<PCollection<Row>, PDone> {
  public static final String NAMESPACE = "featurebeam.online";
  /** The longest a changed state waits before it is written. */
  public static final Duration FLUSH_DELAY = Duration.millis(250);
  /** How soon a write Redis did not take is tried again. */
  public static final Duration RETRY_DELAY = Duration.standardSeconds(1);
  /** The most bases one round trip reads ahead. */
  static final int READ_AHEAD = 512;
  /** Read-ahead bases kept at most (a few flush periods' worth of new entities). */
  static final int MAX_PREFETCHED = 100_000;
  private static final long DAY = 86_400_000L;
  /** No timer past the global window's end; event times stop long before. */
  static final long FORGET_BY =
      org.apache.beam.sdk.transforms.windowing.GlobalWindow.INSTANCE.maxTimestamp().getMillis()
          - 3 * DAY;

  private final String url;
  private final FeatureSpec spec;
  private final long lagMillis;
  private final long rangeStartMillis;

  private OnlineStoreUpdates(String url, FeatureSpec spec, long lagMillis,
      long rangeStartMillis) {
    this.url = url;
    this.spec = spec;
    this.lagMillis = lagMillis;
    this.rangeStartMillis = rangeStartMillis;
  }

  /** Updates the store at {@code url} (redis://…) for {@code spec}'s entities. */
  public static OnlineStoreUpdates to(String url, FeatureSpec spec) {
    checkNotNull(url, "an online store URL is needed");
    checkNotNull(spec, "a spec is needed");
    checkArgument(spec.dedupKey() == null || spec.dedupWithinMillis() != null,
        "a stream's online writer needs a finite dedup_within with a dedup_key");
    return new OnlineStoreUpdates(url, spec, 0, Long.MAX_VALUE);
  }

  /** How far the stream's watermark trails the latest event time (see the class comment). */
  public OnlineStoreUpdates withWatermarkLag(Duration lag) {
    checkArgument(lag != null && !lag.isShorterThan(Duration.ZERO), "a lag of 0 or more");
    return new OnlineStoreUpdates(url, spec, lag.getMillis(), rangeStartMillis);
  }

  /**
   * The stream's first as-of instant. Until the watermark passes it a copy of any earlier time can
   * still come (no date is closed yet); after it, only copies of dates still open, so a dedup key
   * is forgotten once the watermark is a day plus {@code dedup_within} past its latest copy.
   * Without it keys are never forgotten.
   */
  public OnlineStoreUpdates withRangeStart(Instant firstAsOfInstant) {
    checkNotNull(firstAsOfInstant, "an instant is needed");
    return new OnlineStoreUpdates(url, spec, lagMillis, firstAsOfInstant.getMillis());
  }

  @Override
  public PDone expand(PCollection<Row> events) {
    events
        .apply("KeyByEntity", ParDo.of(new KeyFn(spec.entity())))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(spec.eventSchema())))
        .apply("UpdateStates", ParDo.of(new UpdateFn(url, spec, lagMillis, rangeStartMillis)));
    return PDone.in(events.getPipeline());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("onlineStore", RedisStateStore.describe(url))
            .withLabel("Online store"))
        .add(DisplayData.item("flushDelay", FLUSH_DELAY).withLabel("Longest wait before a write"))
        .add(DisplayData.item("watermarkLag", Duration.millis(lagMillis))
            .withLabel("Watermark lag"));
    if (rangeStartMillis != Long.MAX_VALUE) {
      builder.add(DisplayData.item("rangeStart", new Instant(rangeStartMillis))
          .withLabel("Dedup keys forgotten from"));
    }
  }

  static final class KeyFn extends DoFn<Row, KV<String, Row>> {
    private final String entity;

    KeyFn(String entity) {
      this.entity = entity;
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<KV<String, Row>> out) {
      out.output(KV.of(event.getString(entity), event));
    }
  }

  static final class UpdateFn extends DoFn<KV<String, Row>, Void> {
    private final String url;
    private final FeatureSpec spec;
    private final long lagMillis;
    private final long rangeStartMillis;
    private final Counter written = Metrics.counter(NAMESPACE, "online_written");
    private final Counter refused = Metrics.counter(NAMESPACE, "online_refused");
    private final Counter seeded = Metrics.counter(NAMESPACE, "online_from_base");
    private final Counter retried = Metrics.counter(NAMESPACE, "online_write_retries");
    private final Counter stale = Metrics.counter(NAMESPACE, "online_stale_deltas");
    private final Counter sentBytes = Metrics.counter(NAMESPACE, "online_bytes_sent");

    @StateId("entity")
    private final StateSpec<ValueState<LiveEntity>> entitySpec;

    /** The events since the last flush, in arrival order. */
    @StateId("buffer")
    private final StateSpec<BagState<Row>> bufferSpec;

    /** Whether a flush timer is set. */
    @StateId("pending")
    private final StateSpec<ValueState<Boolean>> pendingSpec = StateSpecs.value();

    @TimerId("flush")
    private final TimerSpec flushSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    /** When the entity's earliest remembered dedup key can be forgotten (event time). */
    @TimerId("forget")
    private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    @StateId("forgetAt")
    private final StateSpec<ValueState<Long>> forgetAtSpec = StateSpecs.value(VarLongCoder.of());

    private transient RedisStateStore store;
    private transient StoreWriter writer;
    private transient org.apache.beam.sdk.coders.Coder<EntityState> stateCoder;
    private transient StateParts parts;
    /**
     * The entities written in this bundle, by key, with what their last write was sent with: the
     * bundle's end sends one whole when Redis answered its delta STALE. Their states do not
     * change after their last write in a bundle (every change is written at once).
     */
    private transient Map<String, Flushed> flushed;
    /**
     * Keys of entities this writer has no state for, whose first events wait for a flush: the
     * first such flush reads all their bases in one round trip ({@link #start}), instead of one
     * round trip each on the step's thread.
     */
    private transient Set<String> wanted;
    /** Bases read ahead for their entities' flushes (null values: no base), by key. */
    private transient Map<String, RedisStateStore.Base> prefetched;
    private transient int timestampIndex;
    private transient int keyIndex;
    /** The latest event time this worker has read. */
    private transient long latestSeen;

    UpdateFn(String url, FeatureSpec spec, long lagMillis, long rangeStartMillis) {
      this.url = url;
      this.spec = spec;
      this.lagMillis = lagMillis;
      this.rangeStartMillis = rangeStartMillis;
      this.entitySpec = StateSpecs.value(LiveEntity.coder(spec));
      this.bufferSpec = StateSpecs.bag(RowCoder.of(spec.eventSchema()));
    }

    @Setup
    public void setup() {
      store = RedisStateStore.open(url);
      writer = new StoreWriter(store, RETRY_DELAY, spec.featureSet());
      stateCoder = EntityState.coder(spec);
      parts = StateParts.of(spec);
      flushed = new HashMap<>();
      wanted = new LinkedHashSet<>();
      prefetched = new HashMap<>();
      timestampIndex = spec.fieldIndex(spec.timestamp());
      keyIndex = spec.dedupKey() == null ? -1 : spec.fieldIndex(spec.dedupKey());
      latestSeen = Long.MIN_VALUE;
    }

    @ProcessElement
    public void process(@Element KV<String, Row> event,
        @StateId("entity") ValueState<LiveEntity> entityState,
        @StateId("buffer") BagState<Row> buffer,
        @StateId("pending") ValueState<Boolean> pending,
        @TimerId("flush") Timer flush) {
      latestSeen = Math.max(latestSeen,
          EventRows.eventTimeMillis(event.getValue(), timestampIndex));
      // Applied at the flush: a busy entity's state is read, changed and written once a flush.
      buffer.add(event.getValue());
      if (!Boolean.TRUE.equals(pending.read())) {
        pending.write(true);
        flush.offset(FLUSH_DELAY).setRelative();
        if (entityState.read() == null) {
          wanted.add(key(event.getKey()));
        }
      }
    }

    /**
     * Applies {@code buffered} to {@code live} and clears the buffer; returns whether the state
     * changed (the caller writes it to Redis then, and keeps it in the step's state).
     *
     * <p>The state is changed in place. That is safe because a stream with an online store runs
     * on Flink with --fasterCopy=false (see StreamPipeline): a checkpoint running in the
     * background then serializes a copy Flink's heap backend made on access, never the object
     * changed here (with --fasterCopy that copy is the object itself, and the checkpoint failed
     * with a ConcurrentModificationException). Other runners hand a step its own state.
     */
    private boolean applyBuffered(LiveEntity live, Iterable<Row> buffered,
        BagState<Row> buffer) {
      boolean changed = false;
      for (Row event : buffered) {
        changed |= live.add(event, spec, timestampIndex, keyIndex);
      }
      buffer.clear();
      return changed;
    }

    /**
     * A key whose latest copy is at {@code last} can be forgotten once the watermark is past the
     * range start and a day plus dedup_within past it: a copy that comes then is of a date still
     * open (the stream quarantines the rest as late), so at most a day before the watermark, and
     * more than dedup_within after {@code last}. A day more is kept as a margin.
     */
    private long forgetTime(long last) {
      long within = spec.dedupWithinMillis() == null ? 0 : spec.dedupWithinMillis();
      return Math.max(rangeStartMillis, last + within + 2 * DAY + 1);
    }

    private void scheduleForget(long earliest, ValueState<Long> forgetAt, Timer forget) {
      if (earliest == Long.MAX_VALUE || rangeStartMillis == Long.MAX_VALUE) {
        return;
      }
      long at = Math.min(forgetTime(earliest), FORGET_BY);
      Long set = forgetAt.read();
      if (set == null || at < set) {
        // Nothing comes out of this step: the timer holds no watermark.
        forget.withNoOutputTimestamp().set(new Instant(at));
        forgetAt.write(at);
      }
    }

    @OnTimer("forget")
    public void onForget(OnTimerContext context, @Key String entity,
        @StateId("entity") ValueState<LiveEntity> entityState,
        @StateId("buffer") BagState<Row> buffer,
        @StateId("forgetAt") ValueState<Long> forgetAt,
        @TimerId("forget") Timer forget) {
      forgetAt.clear();
      LiveEntity live = entityState.read();
      if (live == null) {
        return; // nothing remembered yet; the flush applies the buffer
      }
      // A buffered copy came before the watermark passed: it is judged against the keys first,
      // and a change is written at once (see flushed).
      Iterable<Row> buffered = buffer.read();
      if (buffered.iterator().hasNext() && applyBuffered(live, buffered, buffer)) {
        submit(entity, live);
      }
      long now = context.fireTimestamp().getMillis();
      long within = spec.dedupWithinMillis() == null ? 0 : spec.dedupWithinMillis();
      live.takeTouched(); // forgetBefore goes through every key
      long earliest = live.forgetBefore(now - within - 2 * DAY);
      entityState.write(live);
      scheduleForget(earliest, forgetAt, forget);
    }

    /** The base a batch run stored, or an empty state. */
    private LiveEntity start(String entity) throws IOException {
      String key = key(entity);
      if (!prefetched.containsKey(key)) {
        readAhead(key);
      }
      RedisStateStore.Base base = prefetched.remove(key);
      if (base == null) {
        return LiveEntity.fresh(parts);
      }
      seeded.inc();
      return LiveEntity.fromBase(CoderUtils.decodeFromByteArray(stateCoder, base.state()),
          base.watermark());
    }

    /** Reads the base of {@code key} and of the keys {@link #wanted}, in one round trip. */
    private void readAhead(String key) {
      wanted.remove(key);
      List<String> keys = new ArrayList<>();
      keys.add(key);
      for (Iterator<String> it = wanted.iterator(); it.hasNext() && keys.size() < READ_AHEAD; ) {
        keys.add(it.next());
        it.remove();
      }
      if (prefetched.size() > MAX_PREFETCHED) {
        prefetched.clear(); // of entities whose flush did not come here (a rescaled key range)
      }
      List<RedisStateStore.Base> bases = store.readBases(keys);
      for (int i = 0; i < keys.size(); i++) {
        prefetched.put(keys.get(i), bases.get(i));
      }
    }

    @OnTimer("flush")
    public void onFlush(@Key String entity,
        @StateId("entity") ValueState<LiveEntity> entityState,
        @StateId("buffer") BagState<Row> buffer,
        @StateId("pending") ValueState<Boolean> pending,
        @StateId("forgetAt") ValueState<Long> forgetAt,
        @TimerId("forget") Timer forget,
        @TimerId("flush") Timer flush) throws IOException {
      try {
        Iterable<Row> buffered = buffer.read();
        if (!buffered.iterator().hasNext()) {
          pending.clear(); // the forget timer applied them
          return;
        }
        LiveEntity stored = entityState.read();
        LiveEntity live = stored == null ? start(entity) : stored;
        boolean changed = applyBuffered(live, buffered, buffer);
        scheduleForget(live.takeTouched(), forgetAt, forget);
        if (changed) {
          // In Redis before the bundle ends (see finishBundle), so before its state is committed.
          submit(entity, live);
        }
        entityState.write(live); // with what the write covered, for the next delta
        pending.clear();
      } catch (RedisStateStore.UnavailableException e) {
        // Redis did not answer the read of a base: the buffer is kept and tried again, never a
        // lost update.
        retried.inc();
        flush.offset(RETRY_DELAY).setRelative();
      }
    }

    /** Sends the write from what was last written to {@code live} now. */
    private void submit(String entity, LiveEntity live) {
      long until = live.state.readableUntilMillis();
      long watermark = Math.max(live.baseWatermark,
          latestSeen == Long.MIN_VALUE ? Long.MIN_VALUE : latestSeen - lagMillis);
      long expireAt = until == Long.MAX_VALUE ? 0 : Math.max(1, until);
      String key = key(entity);
      writer.submit(live.nextWrite(parts, key, watermark, expireAt));
      flushed.put(key, new Flushed(live, watermark, expireAt));
    }

    /** An entity written in this bundle and what its last write was sent with. */
    private record Flushed(LiveEntity live, long watermark, long expireAt) {}

    /**
     * Waits until Redis holds every write of the bundle: a runner commits (Dataflow, the direct
     * runner) or checkpoints (Flink, with --finishBundleBeforeCheckpointing, which the stream
     * sets) a bundle's state only after this, so a restored state never claims a write Redis does
     * not hold. While Redis is away this waits, and the stream with it: nothing is dropped.
     */
    @FinishBundle
    public void finishBundle() throws InterruptedException {
      writer.drain();
      // Deltas Redis did not hold the base of go again whole; a whole write is never STALE.
      Set<String> keys = writer.takeStale();
      for (String key : keys) {
        Flushed f = flushed.get(key);
        if (f == null) {
          throw new IllegalStateException("a delta of " + key + " was answered after its bundle");
        }
        writer.submit(f.live().wholeWrite(parts, key, f.watermark(), f.expireAt()));
      }
      if (!keys.isEmpty()) {
        writer.drain();
      }
      flushed.clear();
      long[] counts = writer.takeCounts();
      written.inc(counts[0]);
      refused.inc(counts[1]);
      retried.inc(counts[2]);
      stale.inc(counts[3]);
      sentBytes.inc(counts[4]);
    }

    private String key(String entity) {
      return RedisStateStore.key(spec.featureSet(), spec.version(), entity);
    }

    @Teardown
    public void teardown() {
      if (writer != null) {
        writer.close();
      }
      if (store != null) {
        store.close();
      }
    }
  }
}
