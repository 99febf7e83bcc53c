package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkArgument;

import dev.featurebeam.spec.AsOf;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;

/**
 * Emits each as-of date of a run, from the first on (to the last, or forever), once the watermark
 * of its input (the feature rows) has reached the date's closing time minus one millisecond, timestamped there: in
 * the daily window that ends at the closing time ({@link DateWindows}). The input's elements are
 * ignored; only its watermark drives the clock.
 *
 * <p>One key, one event-time timer walking the closing times: the pending timer holds this step's
 * output watermark at the next date's time, so a date it emits is never late downstream. On a
 * bounded input the watermark ends at infinity, so the last date must be finite there.
 */
final class DateClock extends PTransform<PCollection<Row>, PCollection<Long>> {
  private final DateWindows windows;
  private final long firstDay;
  private final long lastDay;

  /** {@code lastDay} is {@link Long#MAX_VALUE} for no last date. */
  DateClock(DateWindows windows, long firstDay, long lastDay) {
    checkArgument(firstDay <= lastDay, "first date after the last");
    this.windows = windows;
    this.firstDay = firstDay;
    this.lastDay = lastDay;
  }

  @Override
  public PCollection<Long> expand(PCollection<Row> input) {
    checkArgument(lastDay != Long.MAX_VALUE || input.isBounded() == PCollection.IsBounded.UNBOUNDED,
        "a bounded input needs a last date: its end would emit dates without end");
    KvCoder<Void, Long> coder = KvCoder.of(VoidCoder.of(), NullableCoder.of(VarLongCoder.of()));
    PCollection<KV<Void, Long>> seed =
        input.getPipeline().apply("Seed", Create.of(KV.of((Void) null, (Long) null)).withCoder(coder));
    PCollection<KV<Void, Long>> watermark =
        input
            .apply("InGlobalWindow", Window.<Row>into(new GlobalWindows()))
            .apply("OnlyTheWatermark", ParDo.of(new DoFn<Row, KV<Void, Long>>() {
              @ProcessElement
              public void process() {}
            }))
            .setCoder(coder);
    return PCollectionList.of(seed)
        .and(watermark)
        .apply("SeedAndWatermark", Flatten.pCollections())
        .apply("Tick", ParDo.of(new TickFn(windows, firstDay, lastDay)))
        .setCoder(VarLongCoder.of());
  }

  static final class TickFn extends DoFn<KV<Void, Long>, Long> {
    private final DateWindows windows;
    private final long firstDay;
    private final long lastDay;

    @StateId("next")
    private final StateSpec<ValueState<Long>> nextSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("close")
    private final TimerSpec closeSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    TickFn(DateWindows windows, long firstDay, long lastDay) {
      this.windows = windows;
      this.firstDay = firstDay;
      this.lastDay = lastDay;
    }

    @ProcessElement
    public void process(
        @StateId("next") ValueState<Long> next, @TimerId("close") Timer close) {
      if (next.read() == null) { // the seed; nothing else arrives
        next.write(firstDay);
        close.set(windows.lastInstant(firstDay));
      }
    }

    @OnTimer("close")
    public void onClose(
        OnTimerContext context,
        @StateId("next") ValueState<Long> next,
        @TimerId("close") Timer close) {
      long day = next.read();
      context.output(day);
      if (day < lastDay) {
        next.write(day + 1);
        close.set(windows.lastInstant(day + 1));
      }
    }
  }

  @Override
  public void populateDisplayData(DisplayData.Builder b) {
    super.populateDisplayData(b);
    b.add(DisplayData.item("dates",
        AsOf.utcDate(firstDay) + ".." + (lastDay == Long.MAX_VALUE ? "" : AsOf.utcDate(lastDay))));
  }
}
