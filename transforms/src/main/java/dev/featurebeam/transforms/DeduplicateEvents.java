package dev.featurebeam.transforms;

import dev.featurebeam.spec.FeatureSpec;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
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
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Keeps one event per dedup key (SPEC.md "De-duplication"). Exact duplicates are dropped; among
 * differing ones the earliest event time wins, ties broken by the smallest canonical
 * serialization, so the choice never depends on arrival order. Counts {@code duplicates_exact}
 * (copies of a kept serialization) and {@code duplicates_conflicting} (other serializations).
 *
 * <p>Per-key state with an event-time timer rather than a global grouping, so the same step works
 * on a stream: the choice is made when the watermark passes the earliest copy, and copies that
 * arrive later (within {@link #HORIZON}) are dropped and counted. In batch every copy has arrived
 * when the timer fires. Beam's {@code Deduplicate} keeps the first copy to arrive, which is not
 * deterministic for conflicting duplicates, hence this step.
 */
public class DeduplicateEvents extends PTransform<PCollection<Row>, PCollection<Row>> {
  /** How long after an event's time its key is remembered to drop copies that come later. */
  public static final Duration HORIZON = Duration.standardDays(1);

  private final FeatureSpec spec;

  private DeduplicateEvents(FeatureSpec spec) {
    this.spec = spec;
  }

  public static DeduplicateEvents of(FeatureSpec spec) {
    return new DeduplicateEvents(spec);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> events) {
    if (spec.dedupKey() == null) {
      return events;
    }
    RowCoder rowCoder = RowCoder.of(spec.eventSchema());
    int keyIndex = spec.fieldIndex(spec.dedupKey());
    return events
        .apply("InGlobalWindow", Window.<Row>into(new GlobalWindows()))
        .apply(
            "KeyByDedupKey",
            WithKeys.of((Row r) -> {
                  Object k = EventRows.plainValue(r, keyIndex);
                  return k == null ? "" : k.toString();
                })
                .withKeyType(TypeDescriptors.strings()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), rowCoder))
        .apply(
            "KeepOnePerKey",
            ParDo.of(new KeepOneFn(rowCoder, spec.fieldIndex(spec.timestamp()),
                events.isBounded() == PCollection.IsBounded.UNBOUNDED)))
        .setCoder(rowCoder);
  }

  static class KeepOneFn extends DoFn<KV<String, Row>, Row> {
    private final int timestampIndex;

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

    @ProcessElement
    public void process(
        @Element KV<String, Row> element,
        @StateId("best") ValueState<Row> best,
        @StateId("copies") ValueState<Map<String, Long>> copies,
        @StateId("emitted") ValueState<Long> emitted,
        @TimerId("choose") Timer choose,
        @TimerId("forget") Timer forget,
        OutputReceiver<Row> out) {
      Row row = element.getValue();
      if (element.getKey().isEmpty()) {
        // No dedup key value (validation turns "" into null): not a duplicate of anything.
        out.output(row);
        return;
      }
      String serialized = EventRows.canonical(row);
      if (emitted.read() != null) {
        Map<String, Long> seen = copies.read();
        Counters.counter(seen != null && seen.containsKey(serialized)
                ? Counters.DUPLICATES_EXACT
                : Counters.DUPLICATES_CONFLICTING)
            .inc();
        return;
      }
      Map<String, Long> seen = copies.read();
      if (seen == null) {
        seen = new HashMap<>();
      }
      seen.merge(serialized, 1L, Long::sum);
      copies.write(seen);
      Row current = best.read();
      long ts = EventRows.eventTimeMillis(row, timestampIndex);
      if (current == null || isBetter(row, ts, serialized, current)) {
        best.write(row);
        // Fires once the watermark passes the earliest copy; output keeps its event time.
        choose.set(new Instant(ts));
      }
    }

    private boolean isBetter(Row candidate, long ts, String serialized, Row current) {
      long currentTs = EventRows.eventTimeMillis(current, timestampIndex);
      if (ts != currentTs) {
        return ts < currentTs;
      }
      return serialized.compareTo(EventRows.canonical(current)) < 0;
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
      Counters.counter(Counters.DUPLICATES_EXACT).inc(total - seen.size());
      Counters.counter(Counters.DUPLICATES_CONFLICTING).inc(seen.size() - 1L);
      context.output(row);
      long ts = EventRows.eventTimeMillis(row, timestampIndex);
      emitted.write(ts);
      best.clear();
      if (forgetKeys) {
        forget.set(new Instant(ts).plus(HORIZON));
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
}
