package dev.featurebeam.transforms.features;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.LocalProgress;
import java.time.LocalDate;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
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
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * Composes each entity's tiles into every window of every as-of date of the run, one feature row
 * per (entity, as-of date) where the entity has an event in the presence window.
 *
 * <p>Per-entity state and one event-time timer that walks the as-of instants: the timer for T is
 * set one millisecond before T, so it fires only when the watermark has passed every tile of every
 * day before T; no event at or after T can be in state yet that a window would read (windows stop
 * at the day before T). The same code serves a bounded run, where the watermark jumps to the end
 * and the timers fire in order, and a stream, where each fires as the watermark passes. Tiles no
 * later window reads are folded into one, which bounds state in a stream.
 */
public class RollTiles extends PTransform<PCollection<KV<String, Tile>>, PCollection<Row>> {
  private final FeatureSpec spec;
  private final AsOfRange range;

  RollTiles(FeatureSpec spec, AsOfRange range) {
    this.spec = spec;
    this.range = range;
  }

  @Override
  public PCollection<Row> expand(PCollection<KV<String, Tile>> tiles) {
    return tiles
        .apply("ComposeWindows", ParDo.of(new RollFn(spec, range)))
        .setCoder(RowCoder.of(spec.outputSchema()));
  }

  static class RollFn extends DoFn<KV<String, Tile>, Row> {
    private static final Counter FEATURE_ROWS = Counters.counter(Counters.FEATURE_ROWS);
    private static final Counter LATE_TILES = Counters.counter(Counters.LATE_TILES);
    private final FeatureSpec spec;
    private final AsOfRange range;
    private final FeaturePlan plan;
    private transient Schema outputSchema;

    @StateId("history")
    private final StateSpec<ValueState<EntityHistory>> historySpec =
        StateSpecs.value(TileCoder.HistoryCoder.of());

    /** When the as-of timer is set for (Beam cannot read a timer back). */
    @StateId("next")
    private final StateSpec<ValueState<Long>> nextSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("asOf")
    private final TimerSpec asOfSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    RollFn(FeatureSpec spec, AsOfRange range) {
      this.spec = spec;
      this.range = range;
      this.plan = new FeaturePlan(spec);
    }

    /** Counted per bundle: a metrics lookup per row costs more than building it. */
    private transient long rows;

    @Setup
    public void setup() {
      outputSchema = spec.outputSchema();
    }

    @StartBundle
    public void startBundle() {
      rows = 0;
    }

    @FinishBundle
    public void finishBundle() {
      FEATURE_ROWS.inc(rows);
    }

    @ProcessElement
    public void process(
        @Element KV<String, Tile> element,
        @StateId("history") ValueState<EntityHistory> historyState,
        @StateId("next") ValueState<Long> nextState,
        @TimerId("asOf") Timer timer) {
      EntityHistory history = historyState.read();
      if (history == null) {
        history = new EntityHistory();
      }
      Tile tile = element.getValue();
      if (!history.add(plan, tile)) {
        LATE_TILES.inc();
      }
      historyState.write(history);
      // The first as-of instant this tile can show in: the midnight after its day.
      long asOf = clipToRange((tile.day + 1) * FeaturePlan.DAY);
      if (asOf == Long.MAX_VALUE) {
        return;
      }
      asOf = history.nextPresent(plan, asOf);
      Long pending = nextState.read();
      if (asOf != Long.MAX_VALUE && withinRange(asOf) && (pending == null || asOf < pending)) {
        timer.set(new Instant(asOf - 1));
        nextState.write(asOf);
      }
    }

    @OnTimer("asOf")
    public void onAsOf(
        OnTimerContext context,
        @Key String entity,
        @StateId("history") ValueState<EntityHistory> historyState,
        @StateId("next") ValueState<Long> nextState,
        @TimerId("asOf") Timer timer) {
      long asOf = context.fireTimestamp().getMillis() + 1;
      EntityHistory history = historyState.read();
      nextState.clear();
      if (history == null) {
        return;
      }
      if (history.present(plan, asOf)) {
        context.output(featureRow(entity, history, asOf));
        rows++;
        LocalProgress.ROWS.increment();
      }
      long next = history.nextPresent(plan, asOf + FeaturePlan.DAY);
      if (next != Long.MAX_VALUE && withinRange(next)) {
        timer.set(new Instant(next - 1));
        nextState.write(next);
        history.foldBefore(plan, EntityHistory.firstDayNeeded(plan, next));
      } else {
        history.foldBefore(plan, EntityHistory.firstDayNeeded(plan, asOf + FeaturePlan.DAY));
      }
      historyState.write(history);
    }

    /** Moves an as-of instant up to the range's first; Long.MAX_VALUE when past the range. */
    private long clipToRange(long asOf) {
      long first = spec.asOf().instantOfEpochDay(range.fromDay());
      long clipped = Math.max(asOf, first);
      return withinRange(clipped) ? clipped : Long.MAX_VALUE;
    }

    private boolean withinRange(long asOf) {
      return range.contains(spec.asOf().epochDayOfInstant(asOf));
    }

    private Row featureRow(String entity, EntityHistory history, long asOf) {
      Object[] values = new Object[plan.size() + 2];
      values[0] = entity;
      values[1] = LocalDate.ofEpochDay(spec.asOf().epochDayOfInstant(asOf));
      for (int i = 0; i < plan.size(); i++) {
        Agg acc = history.window(plan, i, asOf);
        values[i + 2] = acc.result(plan.aggs[i], plan.fieldTypes[i] == FieldType.LONG,
            plan.timestampField[i], asOf);
      }
      // Values are built to the output schema's types: skip the builder's verification.
      return Row.withSchema(outputSchema).attachValues(java.util.Arrays.asList(values));
    }
  }
}
