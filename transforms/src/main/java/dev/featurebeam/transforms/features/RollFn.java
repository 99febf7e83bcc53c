package dev.featurebeam.transforms.features;

import dev.featurebeam.transforms.BundleCounter;
import dev.featurebeam.transforms.Counters;
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

/** {@link RollTiles}' stream path: per-entity state, one timer walking the as-of instants. */
class RollFn extends DoFn<KV<String, Tile>, Row> {
  private final Composer composer;
  private final BundleCounter rows = BundleCounter.of(Counters.FEATURE_ROWS);
  private final BundleCounter lateTiles = BundleCounter.of(Counters.LATE_TILES);

  @StateId("history")
  private final StateSpec<ValueState<EntityHistory>> historySpec =
      StateSpecs.value(TileCoder.HistoryCoder.of());

  /** When the as-of timer is set for (Beam cannot read a timer back). */
  @StateId("next")
  private final StateSpec<ValueState<Long>> nextSpec = StateSpecs.value(VarLongCoder.of());

  @TimerId("asOf")
  private final TimerSpec asOfSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

  RollFn(Composer composer) {
    this.composer = composer;
  }

  @FinishBundle
  public void finishBundle() {
    BundleCounter.flush(rows, lateTiles);
  }

  @ProcessElement
  public void process(
      @Element KV<String, Tile> element,
      @StateId("history") ValueState<EntityHistory> historyState,
      @StateId("next") ValueState<Long> nextState,
      @TimerId("asOf") Timer timer) {
    FeaturePlan plan = composer.plan;
    EntityHistory history = historyState.read();
    if (history == null) {
      history = new EntityHistory();
    }
    Tile tile = element.getValue();
    if (!history.add(plan, tile)) {
      lateTiles.inc();
    }
    historyState.write(history);
    long asOf = composer.firstAsOf(tile.day);
    if (asOf == Long.MAX_VALUE) {
      return;
    }
    asOf = history.nextPresent(plan, asOf);
    Long pending = nextState.read();
    if (composer.withinRange(asOf) && (pending == null || asOf < pending)) {
      timer.set(new Instant(asOf - 1));
      nextState.write(asOf);
    }
  }

  @OnTimer("asOf")
  public void onAsOf(
      OnTimerContext context,
      MultiOutputReceiver out,
      @Key String entity,
      @StateId("history") ValueState<EntityHistory> historyState,
      @StateId("next") ValueState<Long> nextState,
      @TimerId("asOf") Timer timer) {
    FeaturePlan plan = composer.plan;
    long asOf = context.fireTimestamp().getMillis() + 1;
    EntityHistory history = historyState.read();
    nextState.clear();
    if (history == null) {
      return;
    }
    if (history.present(plan, asOf)) {
      composer.output(entity, history, asOf, out);
      rows.inc();
    }
    long next = history.nextPresent(plan, asOf + FeaturePlan.DAY);
    if (composer.withinRange(next)) {
      timer.set(new Instant(next - 1));
      nextState.write(next);
      history.foldBefore(plan, EntityHistory.firstDayNeeded(plan, next));
    } else {
      history.foldBefore(plan, EntityHistory.firstDayNeeded(plan, asOf + FeaturePlan.DAY));
    }
    historyState.write(history);
  }
}
