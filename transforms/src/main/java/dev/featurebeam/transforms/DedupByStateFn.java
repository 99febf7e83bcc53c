package dev.featurebeam.transforms;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.BagState;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.util.VarInt;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * {@link DeduplicateEvents.Method#STATE_AND_TIMERS}: per bucket of dedup keys (a stable hash of the
 * key, {@link #BUCKETS} of them), the copies not decided yet and, per key, the {@link
 * DedupRule.History} of those decided. A copy is decided at the end of its UTC day (every as-of
 * instant is a midnight), or at {@code decideFrom} if that is later: by then every copy of that
 * day has come, as the step before holds the watermark until a date closes (see {@link
 * QuarantineLateRecords}), so the copies of a key are decided in event-time order, as the rule
 * needs. The decide timer holds this step's output watermark at the bucket's earliest undecided
 * copy, so the kept copies go on at their own event times, never late downstream.
 *
 * <p>Keys share a bucket's state and its two timers rather than each having its own: on Flink
 * nearly every event has a key of its own, and a key's state entries and timers, made and removed
 * per event, were most of the stream's CPU. Each key is still decided and forgotten exactly as with
 * a timer of its own: the bucket's decide timer fires at the earliest decision time of its pending
 * copies and decides the copies due then, key by key; its forget timer fires at the earliest time a
 * key is to be forgotten.
 *
 * <p>On a stream a key is forgotten once no later copy can look back to its last one: after the
 * day that ends {@code within} after it, when no copy of it is pending. A copy that still comes
 * after its time was decided (a runner firing a timer before a record it had already taken) is
 * decided against the history as it stands; it cannot undo a copy already kept.
 */
class DedupByStateFn extends DoFn<KV<Integer, Row>, Row> {
  private static final long DAY = 86_400_000L;

  /** Buckets the keys are spread over: a few per key group of Flink's default 128. */
  static final int BUCKETS = 256;

  /** No timer past the global window's end; event times stop long before (year 2263). */
  static final long FORGET_BY =
      GlobalWindow.INSTANCE.maxTimestamp().getMillis() - 2 * DAY;

  /** A key's {@link Known#forgetAt} when no forget is scheduled for it. */
  static final long NEVER = Long.MAX_VALUE;

  private final int keyIndex;
  private final int timestampIndex;
  private final @Nullable Long within;
  private final long decideFrom;
  private final boolean forgetKeys;
  private final BundleCounter exact = BundleCounter.of(Counters.DUPLICATES_EXACT);
  private final BundleCounter conflicting = BundleCounter.of(Counters.DUPLICATES_CONFLICTING);

  /** The bucket's copies not decided yet. */
  @StateId("pending")
  private final StateSpec<BagState<Row>> pendingSpec;

  /** Per key with decided copies: their history and when the key is to be forgotten. */
  @StateId("known")
  private final StateSpec<MapState<String, Known>> knownSpec =
      StateSpecs.map(StringUtf8Coder.of(), KnownCoder.INSTANCE);

  /** When the decide timer is set for, and the watermark it holds (Beam cannot read timers). */
  @StateId("decideAt")
  private final StateSpec<ValueState<Long>> decideAtSpec = StateSpecs.value(VarLongCoder.of());

  @StateId("holdAt")
  private final StateSpec<ValueState<Long>> holdAtSpec = StateSpecs.value(VarLongCoder.of());

  /** When the forget timer is set for: never after any key's {@link Known#forgetAt}. */
  @StateId("forgetAt")
  private final StateSpec<ValueState<Long>> forgetAtSpec = StateSpecs.value(VarLongCoder.of());

  @TimerId("decide")
  private final TimerSpec decideSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

  @TimerId("forget")
  private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

  private final @Nullable TupleTag<KV<String, Long>> countsTag;

  DedupByStateFn(RowCoder rowCoder, int keyIndex, int timestampIndex, @Nullable Long within,
      long decideFrom, boolean forgetKeys, @Nullable TupleTag<KV<String, Long>> countsTag) {
    this.countsTag = countsTag;
    this.pendingSpec = StateSpecs.bag(rowCoder);
    this.keyIndex = keyIndex;
    this.timestampIndex = timestampIndex;
    this.within = within;
    this.decideFrom = decideFrom;
    this.forgetKeys = forgetKeys && within != null;
  }

  /** The bucket of a dedup key; stable across runs and JVMs. */
  static int bucket(String key) {
    return (int) Math.floorMod(FindRepeatedKeys.hash(key), (long) BUCKETS);
  }

  /** When a copy at {@code ts} is decided: the last instant of its UTC day, or decideFrom. */
  long decisionTime(long ts) {
    return Math.max(Math.floorDiv(ts, DAY) * DAY + DAY - 1, decideFrom);
  }

  @FinishBundle
  public void finishBundle(FinishBundleContext context) {
    StageCounts.flush(context, countsTag, exact, conflicting);
  }

  @ProcessElement
  public void process(
      @Element KV<Integer, Row> element,
      @StateId("pending") BagState<Row> pending,
      @StateId("decideAt") ValueState<Long> decideAt,
      @StateId("holdAt") ValueState<Long> holdAt,
      @TimerId("decide") Timer decide,
      OutputReceiver<Row> out) {
    Row row = element.getValue();
    if (DeduplicateEvents.dedupKey(row, keyIndex).isEmpty()) {
      // No dedup key value (validation turns "" into null): not a copy of anything.
      out.output(row);
      return;
    }
    pending.add(row);
    long ts = EventRows.eventTimeMillis(row, timestampIndex);
    Long at = decideAt.read();
    Long hold = holdAt.read();
    long newAt = at == null ? decisionTime(ts) : Math.min(at, decisionTime(ts));
    long newHold = hold == null ? ts : Math.min(hold, ts);
    if (at == null || newAt != at || newHold != hold) {
      decide.withOutputTimestamp(new Instant(newHold)).set(new Instant(newAt));
      decideAt.write(newAt);
      holdAt.write(newHold);
    }
  }

  @OnTimer("decide")
  public void onDecide(
      OnTimerContext context,
      @StateId("pending") BagState<Row> pending,
      @StateId("known") MapState<String, Known> known,
      @StateId("decideAt") ValueState<Long> decideAt,
      @StateId("holdAt") ValueState<Long> holdAt,
      @StateId("forgetAt") ValueState<Long> forgetAt,
      @TimerId("decide") Timer decide,
      @TimerId("forget") Timer forget) {
    long now = context.fireTimestamp().getMillis();
    // The due copies by key, each key's in arrival order.
    Map<String, List<DedupRule.Copy<Row>>> due = new LinkedHashMap<>();
    List<Row> later = new ArrayList<>();
    for (Row row : pending.read()) {
      long ts = EventRows.eventTimeMillis(row, timestampIndex);
      if (decisionTime(ts) <= now) {
        due.computeIfAbsent(DeduplicateEvents.dedupKey(row, keyIndex), k -> new ArrayList<>())
            .add(new DedupRule.Copy<>(ts, EventRows.canonical(row), row));
      } else {
        later.add(row);
      }
    }
    long firstForget = NEVER;
    for (Map.Entry<String, List<DedupRule.Copy<Row>>> copies : due.entrySet()) {
      Known before = known.get(copies.getKey()).read();
      DedupRule.History history = before == null ? new DedupRule.History() : before.history;
      DedupRule.Decision<Row> decision = DedupRule.decide(copies.getValue(), history, within);
      for (DedupRule.Copy<Row> kept : decision.kept) {
        context.outputWithTimestamp(kept.value, new Instant(kept.ts));
      }
      exact.inc(decision.exact);
      conflicting.inc(decision.conflicting);
      if (within != null) {
        history.trim(within);
      }
      long forgetKeyAt = NEVER;
      if (forgetKeys) {
        // A copy up to `within` after the latest can still come until that day is decided.
        forgetKeyAt = decisionTime(Math.min(history.latest() + within, FORGET_BY)) + 1;
        firstForget = Math.min(firstForget, forgetKeyAt);
      }
      known.put(copies.getKey(), new Known(history, forgetKeyAt));
    }
    pending.clear();
    decideAt.clear();
    holdAt.clear();
    if (!later.isEmpty()) {
      long at = Long.MAX_VALUE;
      long hold = Long.MAX_VALUE;
      for (Row row : later) {
        pending.add(row);
        long ts = EventRows.eventTimeMillis(row, timestampIndex);
        at = Math.min(at, decisionTime(ts));
        hold = Math.min(hold, ts);
      }
      decide.withOutputTimestamp(new Instant(hold)).set(new Instant(at));
      decideAt.write(at);
      holdAt.write(hold);
    }
    Long forgetSet = forgetAt.read();
    if (firstForget != NEVER && (forgetSet == null || firstForget < forgetSet)) {
      forget.withNoOutputTimestamp().set(new Instant(firstForget));
      forgetAt.write(firstForget);
    }
  }

  /**
   * Forgets the keys due now that have no pending copy; a key with one keeps its history until its
   * copies are decided, which schedules its forget anew. Then waits for the next key's time.
   */
  @OnTimer("forget")
  public void onForget(
      OnTimerContext context,
      @StateId("pending") BagState<Row> pending,
      @StateId("known") MapState<String, Known> known,
      @StateId("forgetAt") ValueState<Long> forgetAt,
      @TimerId("forget") Timer forget) {
    long now = context.fireTimestamp().getMillis();
    Set<String> pendingKeys = null;
    List<String> forgotten = new ArrayList<>();
    List<Map.Entry<String, Known>> waiting = new ArrayList<>();
    long next = NEVER;
    for (Map.Entry<String, Known> e : known.entries().read()) {
      long at = e.getValue().forgetAt;
      if (at > now) {
        next = Math.min(next, at);
        continue;
      }
      if (pendingKeys == null) {
        pendingKeys = new HashSet<>();
        for (Row row : pending.read()) {
          pendingKeys.add(DeduplicateEvents.dedupKey(row, keyIndex));
        }
      }
      if (pendingKeys.contains(e.getKey())) {
        waiting.add(e);
      } else {
        forgotten.add(e.getKey());
      }
    }
    for (String key : forgotten) {
      known.remove(key);
    }
    for (Map.Entry<String, Known> e : waiting) {
      known.put(e.getKey(), new Known(e.getValue().history, NEVER));
    }
    if (next == NEVER) {
      forgetAt.clear();
    } else {
      forget.withNoOutputTimestamp().set(new Instant(next));
      forgetAt.write(next);
    }
  }

  /** The hold lies at the earliest pending copy, which may be before the current record. */
  @SuppressWarnings("deprecation")
  @Override
  public Duration getAllowedTimestampSkew() {
    return Duration.millis(Long.MAX_VALUE);
  }

  /** A history as its entries: count, then per time its hashes. Deterministic (ordered map). */
  static final class HistoryCoder extends AtomicCoder<DedupRule.History> {
    static final HistoryCoder INSTANCE = new HistoryCoder();

    @Override
    public void encode(DedupRule.History history, OutputStream out) throws IOException {
      VarInt.encode(history.seen.size(), out);
      for (Map.Entry<Long, long[]> e : history.seen.entrySet()) {
        VarInt.encode(e.getKey(), out);
        VarInt.encode(e.getValue().length, out);
        for (long h : e.getValue()) {
          VarInt.encode(h, out);
        }
      }
    }

    @Override
    public DedupRule.History decode(InputStream in) throws IOException {
      int n = VarInt.decodeInt(in);
      TreeMap<Long, long[]> seen = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        long ts = VarInt.decodeLong(in);
        long[] hashes = new long[VarInt.decodeInt(in)];
        for (int j = 0; j < hashes.length; j++) {
          hashes[j] = VarInt.decodeLong(in);
        }
        seen.put(ts, hashes);
      }
      return new DedupRule.History(seen);
    }

    @Override
    public void verifyDeterministic() {}
  }

  /** A key's decided copies and when it is to be forgotten ({@link #NEVER}: not scheduled). */
  static final class Known {
    final DedupRule.History history;
    final long forgetAt;

    Known(DedupRule.History history, long forgetAt) {
      this.history = history;
      this.forgetAt = forgetAt;
    }
  }

  /** The forget time, then the history. */
  static final class KnownCoder extends AtomicCoder<Known> {
    static final KnownCoder INSTANCE = new KnownCoder();

    @Override
    public void encode(Known known, OutputStream out) throws IOException {
      VarInt.encode(known.forgetAt, out);
      HistoryCoder.INSTANCE.encode(known.history, out);
    }

    @Override
    public Known decode(InputStream in) throws IOException {
      long forgetAt = VarInt.decodeLong(in);
      return new Known(HistoryCoder.INSTANCE.decode(in), forgetAt);
    }

    @Override
    public void verifyDeterministic() {}
  }
}
