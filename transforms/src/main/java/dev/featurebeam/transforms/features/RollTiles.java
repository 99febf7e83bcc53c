package dev.featurebeam.transforms.features;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.Counters;
import java.io.Serializable;
import java.time.LocalDate;
import java.util.Arrays;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
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
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Instant;

/**
 * Composes each entity's tiles into every window of every as-of date of the run, one feature row
 * per (entity, as-of date) where the entity has an event in the presence window.
 *
 * <p>On a stream: per-entity state and one event-time timer that walks the as-of instants. The
 * timer for T is set one millisecond before T, so it fires only when the watermark has passed every
 * tile of every day before T; windows stop at the day before T, so nothing at or after T is read.
 * Tiles no later window reads are folded into one, which bounds state.
 *
 * <p>On bounded input every tile is at hand: the entity's tiles are grouped and the same walk runs
 * in one go, without per-key state and a timer per as-of date (which cost a sixth of a batch run on
 * Flink). Both paths step through {@link EntityHistory#nextPresent} and build rows with
 * {@link Composer}, and the stream/batch parity tests hold them to the same rows.
 */
public class RollTiles extends PTransform<PCollection<KV<String, Tile>>, PCollectionTuple> {
  private static final Counter FEATURE_ROWS = Counters.counter(Counters.FEATURE_ROWS);
  private static final Counter LATE_TILES = Counters.counter(Counters.LATE_TILES);

  private final FeatureSpec spec;
  private final AsOfRange range;

  RollTiles(FeatureSpec spec, AsOfRange range) {
    this.spec = spec;
    this.range = range;
  }

  @Override
  public PCollectionTuple expand(PCollection<KV<String, Tile>> tiles) {
    PCollectionTuple out;
    TupleTagList invalid = TupleTagList.of(ComputeFeatures.INVALID_VALUES);
    if (tiles.isBounded() == PCollection.IsBounded.BOUNDED) {
      out = tiles
          // Tiles cross the shuffle encoded: the runner copies them without decoding.
          .apply("EncodeTiles", ParDo.of(new EncodeTileFn()))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), Encoded.coder(TileCoder.of())))
          .apply("GroupByEntity", GroupByKey.create())
          .apply("ComposeWindows", ParDo.of(new RollAllFn(new Composer(spec, range)))
              .withOutputTags(ComputeFeatures.FEATURES, invalid));
    } else {
      out = tiles.apply("ComposeWindows", ParDo.of(new RollFn(new Composer(spec, range)))
          .withOutputTags(ComputeFeatures.FEATURES, invalid));
    }
    out.get(ComputeFeatures.FEATURES).setCoder(RowCoder.of(spec.outputSchema()));
    out.get(ComputeFeatures.INVALID_VALUES).setCoder(InvalidValue.InvalidValueCoder.of());
    return out;
  }

  static class EncodeTileFn extends DoFn<KV<String, Tile>, KV<String, Encoded<Tile>>> {
    @ProcessElement
    public void process(
        @Element KV<String, Tile> tile, OutputReceiver<KV<String, Encoded<Tile>>> out) {
      out.output(KV.of(tile.getKey(), Encoded.of(tile.getValue(), TileCoder.of())));
    }
  }

  /** Range arithmetic and row building shared by both paths. */
  static final class Composer implements Serializable {
    private final FeatureSpec spec;
    private final AsOfRange range;
    final FeaturePlan plan;
    private transient Schema outputSchema;

    Composer(FeatureSpec spec, AsOfRange range) {
      this.spec = spec;
      this.range = range;
      this.plan = new FeaturePlan(spec);
    }

    /** The first as-of instant a tile of {@code day} can show in, or Long.MAX_VALUE. */
    long firstAsOf(long day) {
      long first = spec.asOf().instantOfEpochDay(range.fromDay());
      long clipped = Math.max((day + 1) * FeaturePlan.DAY, first);
      return withinRange(clipped) ? clipped : Long.MAX_VALUE;
    }

    boolean withinRange(long asOf) {
      return asOf != Long.MAX_VALUE && range.contains(spec.asOf().epochDayOfInstant(asOf));
    }

    /**
     * The row of {@code entity} as of {@code asOf}, output with any value its column cannot hold
     * (null in the row, the reason on {@link ComputeFeatures#INVALID_VALUES}).
     */
    void output(String entity, EntityHistory history, long asOf, DoFn.MultiOutputReceiver out) {
      if (outputSchema == null) {
        outputSchema = spec.outputSchema();
      }
      long day = spec.asOf().epochDayOfInstant(asOf);
      Object[] values = new Object[plan.size() + 2];
      values[0] = entity;
      values[1] = LocalDate.ofEpochDay(day);
      for (int i = 0; i < plan.size(); i++) {
        Agg acc = history.window(plan, i, asOf);
        try {
          values[i + 2] = acc.result(plan.aggs[i], plan.fieldTypes[i] == FieldType.LONG,
              plan.timestampField[i], asOf);
        } catch (Agg.UnrepresentableException e) {
          out.get(ComputeFeatures.INVALID_VALUES)
              .output(InvalidValue.of(day, entity, spec.features().get(i).name(), e.getMessage()));
        }
      }
      // Values are built to the output schema's types: skip the builder's verification.
      out.get(ComputeFeatures.FEATURES)
          .output(Row.withSchema(outputSchema).attachValues(Arrays.asList(values)));
    }
  }

  /**
   * The bounded path: all of an entity's tiles at once. A day may have several ({@link
   * TileInBundles}); the history merges a day's tiles, and the day tiles are counted here.
   */
  static class RollAllFn extends DoFn<KV<String, Iterable<Encoded<Tile>>>, Row> {
    private static final Counter TILES = Counters.counter(Counters.TILES);

    private final Composer composer;
    private transient long rows;
    private transient long tiles;

    RollAllFn(Composer composer) {
      this.composer = composer;
    }

    @StartBundle
    public void startBundle() {
      rows = 0;
      tiles = 0;
    }

    @FinishBundle
    public void finishBundle() {
      FEATURE_ROWS.inc(rows);
      TILES.inc(tiles);
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<Encoded<Tile>>> entity, MultiOutputReceiver out) {
      FeaturePlan plan = composer.plan;
      EntityHistory history = new EntityHistory();
      long firstDay = Long.MAX_VALUE;
      for (Encoded<Tile> encoded : entity.getValue()) {
        Tile tile = encoded.get();
        history.add(plan, tile);
        firstDay = Math.min(firstDay, tile.day);
      }
      tiles += history.tiles.size(); // nothing is folded yet: one tile per day with events
      long asOf = composer.firstAsOf(firstDay);
      if (asOf != Long.MAX_VALUE) {
        asOf = history.nextPresent(plan, asOf);
      }
      while (composer.withinRange(asOf)) {
        composer.output(entity.getKey(), history, asOf, out);
        rows++;
        long next = history.nextPresent(plan, asOf + FeaturePlan.DAY);
        if (next != Long.MAX_VALUE) {
          history.foldBefore(plan, EntityHistory.firstDayNeeded(plan, next));
        }
        asOf = next;
      }
    }
  }

  /** The stream's path: per-entity state, one timer walking the as-of instants. */
  static class RollFn extends DoFn<KV<String, Tile>, Row> {
    private final Composer composer;
    private transient long rows;

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
      FeaturePlan plan = composer.plan;
      EntityHistory history = historyState.read();
      if (history == null) {
        history = new EntityHistory();
      }
      Tile tile = element.getValue();
      if (!history.add(plan, tile)) {
        LATE_TILES.inc();
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
        rows++;
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
}
