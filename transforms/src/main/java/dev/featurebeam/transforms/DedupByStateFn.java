package dev.featurebeam.transforms;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.BagState;
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
 * {@link DeduplicateEvents.Method#STATE_AND_TIMERS}: per dedup key, the copies not yet decided and
 * the {@link DedupRule.History} of those decided. A copy is decided at the end of its UTC day
 * (every as-of instant is a midnight), or at {@code decideFrom} if that is later: by then every
 * copy of that day has come, as the step before holds the watermark until a date closes (see
 * {@link QuarantineLateRecords}), so the copies of a key are decided in event-time order, as the
 * rule needs. The timer holds this step's output watermark at the earliest undecided copy, so the
 * kept copies go on at their own event times, never late downstream.
 *
 * <p>On a stream the key is forgotten once no later copy can look back to its last one: after the
 * day that ends {@code within} after it, when no copy is pending. A copy that still comes after
 * its time was decided (a runner firing a timer before a record it had already taken) is decided
 * against the history as it stands; it cannot undo a copy already kept.
 */
class DedupByStateFn extends DoFn<KV<String, Row>, Row> {
  private static final long DAY = 86_400_000L;

  /** No timer past the global window's end; event times stop long before (year 2263). */
  static final long FORGET_BY =
      GlobalWindow.INSTANCE.maxTimestamp().getMillis() - 2 * DAY;

  private final int timestampIndex;
  private final @Nullable Long within;
  private final long decideFrom;
  private final boolean forgetKeys;
  private final BundleCounter exact = BundleCounter.of(Counters.DUPLICATES_EXACT);
  private final BundleCounter conflicting = BundleCounter.of(Counters.DUPLICATES_CONFLICTING);

  /** Copies not decided yet. */
  @StateId("pending")
  private final StateSpec<BagState<Row>> pendingSpec;

  @StateId("history")
  private final StateSpec<ValueState<DedupRule.History>> historySpec =
      StateSpecs.value(HistoryCoder.INSTANCE);

  /** When the decide timer is set for, and the watermark it holds (Beam cannot read timers). */
  @StateId("decideAt")
  private final StateSpec<ValueState<Long>> decideAtSpec = StateSpecs.value(VarLongCoder.of());

  @StateId("holdAt")
  private final StateSpec<ValueState<Long>> holdAtSpec = StateSpecs.value(VarLongCoder.of());

  @TimerId("decide")
  private final TimerSpec decideSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

  @TimerId("forget")
  private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

  private final @Nullable TupleTag<KV<String, Long>> countsTag;

  DedupByStateFn(RowCoder rowCoder, int timestampIndex, @Nullable Long within, long decideFrom,
      boolean forgetKeys, @Nullable TupleTag<KV<String, Long>> countsTag) {
    this.countsTag = countsTag;
    this.pendingSpec = StateSpecs.bag(rowCoder);
    this.timestampIndex = timestampIndex;
    this.within = within;
    this.decideFrom = decideFrom;
    this.forgetKeys = forgetKeys && within != null;
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
      @Element KV<String, Row> element,
      @StateId("pending") BagState<Row> pending,
      @StateId("decideAt") ValueState<Long> decideAt,
      @StateId("holdAt") ValueState<Long> holdAt,
      @TimerId("decide") Timer decide,
      OutputReceiver<Row> out) {
    Row row = element.getValue();
    if (element.getKey().isEmpty()) {
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
      @StateId("history") ValueState<DedupRule.History> historyState,
      @StateId("decideAt") ValueState<Long> decideAt,
      @StateId("holdAt") ValueState<Long> holdAt,
      @TimerId("decide") Timer decide,
      @TimerId("forget") Timer forget) {
    long now = context.fireTimestamp().getMillis();
    List<DedupRule.Copy<Row>> due = new ArrayList<>();
    List<Row> later = new ArrayList<>();
    for (Row row : pending.read()) {
      long ts = EventRows.eventTimeMillis(row, timestampIndex);
      if (decisionTime(ts) <= now) {
        due.add(new DedupRule.Copy<>(ts, EventRows.canonical(row), row));
      } else {
        later.add(row);
      }
    }
    DedupRule.History history = historyState.read();
    if (history == null) {
      history = new DedupRule.History();
    }
    DedupRule.Decision<Row> decision = DedupRule.decide(due, history, within);
    for (DedupRule.Copy<Row> kept : decision.kept) {
      context.outputWithTimestamp(kept.value, new Instant(kept.ts));
    }
    exact.inc(decision.exact);
    conflicting.inc(decision.conflicting);
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
    if (within != null) {
      history.trim(within);
    }
    historyState.write(history);
    if (forgetKeys && !history.seen.isEmpty()) {
      // A copy up to `within` after the latest can still come until that day is decided.
      long after = decisionTime(Math.min(history.latest() + within, FORGET_BY)) + 1;
      forget.withNoOutputTimestamp().set(new Instant(after));
    }
  }

  @OnTimer("forget")
  public void onForget(
      @StateId("pending") BagState<Row> pending,
      @StateId("history") ValueState<DedupRule.History> history) {
    if (pending.isEmpty().read()) {
      history.clear();
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
}
