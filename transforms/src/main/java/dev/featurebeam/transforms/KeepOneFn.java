package dev.featurebeam.transforms;

import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * {@link DeduplicateEvents.Method#STATE_AND_TIMERS}: per dedup key, the best copy so far and how
 * often each serialization came; an event-time timer at the earliest copy's time emits the choice
 * (at that time) once the watermark passes it. Copies that come after the choice are only counted,
 * until the key is forgotten {@link DeduplicateEvents#HORIZON} after the kept copy's time.
 */
class KeepOneFn extends DoFn<KV<String, Row>, Row> {
  private final int timestampIndex;
  private final BundleCounter exact = BundleCounter.of(Counters.DUPLICATES_EXACT);
  private final BundleCounter conflicting = BundleCounter.of(Counters.DUPLICATES_CONFLICTING);

  /** The best copy so far. */
  @StateId("best")
  private final StateSpec<ValueState<Row>> bestSpec;

  /** How often each distinct serialization arrived; decides exact vs conflicting counts. */
  @StateId("copies")
  private final StateSpec<ValueState<Map<String, Long>>> copiesSpec =
      StateSpecs.value(MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));

  /** Set once the key's choice was emitted: later copies are only counted. */
  @StateId("emitted")
  private final StateSpec<ValueState<Long>> emittedSpec = StateSpecs.value(VarLongCoder.of());

  @TimerId("choose")
  private final TimerSpec chooseSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

  @TimerId("forget")
  private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

  /** Only a stream needs to forget keys: bounded input ends, and with it the state. */
  private final boolean forgetKeys;

  KeepOneFn(RowCoder rowCoder, int timestampIndex, boolean forgetKeys) {
    this.bestSpec = StateSpecs.value(rowCoder);
    this.timestampIndex = timestampIndex;
    this.forgetKeys = forgetKeys;
  }

  @FinishBundle
  public void finishBundle() {
    BundleCounter.flush(exact, conflicting);
  }

  @ProcessElement
  public void process(
      @Element KV<String, Row> element,
      @StateId("best") ValueState<Row> best,
      @StateId("copies") ValueState<Map<String, Long>> copies,
      @StateId("emitted") ValueState<Long> emitted,
      @TimerId("choose") Timer choose,
      OutputReceiver<Row> out) {
    Row row = element.getValue();
    if (element.getKey().isEmpty()) {
      // No dedup key value (validation turns "" into null): not a duplicate of anything.
      out.output(row);
      return;
    }
    String serialized = EventRows.canonical(row);
    Map<String, Long> seen = copies.read();
    if (emitted.read() != null) {
      if (seen != null && seen.containsKey(serialized)) {
        exact.inc();
      } else {
        conflicting.inc();
      }
      return;
    }
    if (seen == null) {
      seen = new HashMap<>();
    }
    seen.merge(serialized, 1L, Long::sum);
    copies.write(seen);
    Row current = best.read();
    long ts = EventRows.eventTimeMillis(row, timestampIndex);
    if (current == null || DeduplicateEvents.isBetter(ts, serialized,
        EventRows.eventTimeMillis(current, timestampIndex), EventRows.canonical(current))) {
      best.write(row);
      // Fires once the watermark passes the earliest copy; output keeps its event time.
      choose.set(new Instant(ts));
    }
  }

  @OnTimer("choose")
  public void onChoose(
      OnTimerContext context,
      @StateId("best") ValueState<Row> best,
      @StateId("copies") ValueState<Map<String, Long>> copies,
      @StateId("emitted") ValueState<Long> emitted,
      @TimerId("forget") Timer forget) {
    Row row = best.read();
    if (row == null) {
      return;
    }
    Map<String, Long> seen = copies.read();
    long total = 0;
    for (long n : seen.values()) {
      total += n;
    }
    exact.inc(total - seen.size());
    conflicting.inc(seen.size() - 1L);
    context.output(row);
    long ts = EventRows.eventTimeMillis(row, timestampIndex);
    emitted.write(ts);
    best.clear();
    if (forgetKeys) {
      forget.set(new Instant(ts).plus(DeduplicateEvents.HORIZON));
    }
  }

  @OnTimer("forget")
  public void onForget(
      @StateId("copies") ValueState<Map<String, Long>> copies,
      @StateId("emitted") ValueState<Long> emitted) {
    copies.clear();
    emitted.clear();
  }
}
