package dev.featurebeam.transforms;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.spec.FeatureSpec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Keeps one event per dedup key. Exact duplicates are dropped; among
 * differing ones the earliest event time wins, ties broken by the smallest canonical
 * serialization, so the choice never depends on arrival order. Counts {@code duplicates_exact}
 * (copies of a kept serialization) and {@code duplicates_conflicting} (other serializations).
 *
 * <p>A bounded input groups the events whose key occurs more than once and makes the choice per
 * group; the rest pass straight on ({@link FindRepeatedKeys}). An unbounded one uses
 * per-key state with an event-time timer instead, since a global grouping never fires on a
 * stream: the choice is made when the watermark passes the earliest copy, and copies that arrive
 * later (within {@link #HORIZON}) are dropped and counted. Both paths apply {@link #isBetter}, and
 * the stream/batch parity tests hold them to the same rows. Beam's {@code Deduplicate} keeps the
 * first copy to arrive, which is not deterministic for conflicting duplicates, hence this step.
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
    int timestampIndex = spec.fieldIndex(spec.timestamp());
    // The default END_OF_WINDOW timestamp combiner: Flink's batch runner groups such a
    // GroupByKey without a pre-combining sort; the kept copy gets its event time back.
    PCollection<Row> inGlobalWindow =
        events.apply("InGlobalWindow", Window.<Row>into(new GlobalWindows()));
    if (events.isBounded() == PCollection.IsBounded.BOUNDED) {
      return inGlobalWindow.apply("KeepEarliestPerKey", new KeepEarliestPerKey(keyIndex,
          timestampIndex, rowCoder));
    }
    return inGlobalWindow
        .apply(
            "KeyByDedupKey",
            WithKeys.of((Row r) -> dedupKey(r, keyIndex)).withKeyType(TypeDescriptors.strings()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), rowCoder))
        .apply("KeepOnePerKey", ParDo.of(new KeepOneFn(rowCoder, timestampIndex, true)))
        .setCoder(rowCoder);
  }

  /** The dedup key's value as text; "" when the event has none (never a duplicate). */
  static String dedupKey(Row event, int keyIndex) {
    Object k = EventRows.plainValue(event, keyIndex);
    return k == null ? "" : k.toString();
  }

  /**
   * The bounded path. Every copy is at hand, so one grouping by key decides, without per-key state
   * or timers (which cost a quarter of a batch run on Flink). Only events whose key occurs more than
   * once are grouped ({@link FindRepeatedKeys}); the rest, nearly all of them in practice, pass
   * straight through. Same rule, same counts as the stream's path.
   */
  static class KeepEarliestPerKey extends PTransform<PCollection<Row>, PCollection<Row>> {
    private static final TupleTag<KV<String, Encoded<Row>>> REPEATED =
        new TupleTag<KV<String, Encoded<Row>>>() {};
    private static final TupleTag<Encoded<Row>> SINGLE = new TupleTag<Encoded<Row>>() {};

    private final int keyIndex;
    private final int timestampIndex;
    private final RowCoder rowCoder;

    KeepEarliestPerKey(int keyIndex, int timestampIndex, RowCoder rowCoder) {
      this.keyIndex = keyIndex;
      this.timestampIndex = timestampIndex;
      this.rowCoder = rowCoder;
    }

    @Override
    public PCollection<Row> expand(PCollection<Row> events) {
      KvCoder<String, Encoded<Row>> keyedCoder =
          KvCoder.of(StringUtf8Coder.of(), Encoded.coder(rowCoder));
      // Events travel encoded from here: the runner copies their bytes without decoding them.
      PCollection<KV<String, Encoded<Row>>> keyed =
          events
              .apply("KeyByDedupKey", ParDo.of(new KeyEncodedFn(keyIndex, rowCoder)))
              .setCoder(keyedCoder);
      PCollectionView<List<byte[]>> repeatedKeys =
          keyed.apply("FindRepeatedKeys", FindRepeatedKeys.create());
      // Both outputs hold encoded events: a multi-output step on Flink's batch runner sends every
      // element to the readers of each output, where only a copy of bytes is cheap.
      PCollectionTuple split =
          keyed.apply(
              "SplitByRepeatedKeys",
              ParDo.of(new SplitFn(repeatedKeys))
                  .withSideInputs(repeatedKeys)
                  .withOutputTags(REPEATED, TupleTagList.of(SINGLE)));
      PCollection<Encoded<Row>> singles = split.get(SINGLE).setCoder(Encoded.coder(rowCoder));
      PCollection<Encoded<Row>> kept =
          split
              .get(REPEATED)
              .setCoder(keyedCoder)
              .apply("GroupByDedupKey", GroupByKey.create())
              .apply("KeepEarliest", ParDo.of(new KeepEarliestFn(timestampIndex)))
              .setCoder(Encoded.coder(rowCoder));
      // Still encoded where the two paths meet: Flink's batch runner buffers one side of a union
      // whose other side waits on a grouping, and bytes are cheap to buffer.
      return PCollectionList.of(singles)
          .and(kept)
          .apply("AllKept", Flatten.pCollections())
          .apply("DecodeKept", ParDo.of(new ValidateRecords.DecodeFn()))
          .setCoder(rowCoder);
    }
  }

  /** Sends an event to the grouping when its key may repeat; the rest keep their event time. */
  static class SplitFn extends DoFn<KV<String, Encoded<Row>>, KV<String, Encoded<Row>>> {
    private final PCollectionView<List<byte[]>> repeatedKeys;
    // The global window's side input of a bounded input never changes: read it once per instance.
    private transient FindRepeatedKeys.RepeatedKeys repeated;

    SplitFn(PCollectionView<List<byte[]>> repeatedKeys) {
      this.repeatedKeys = repeatedKeys;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      if (repeated == null) {
        repeated = FindRepeatedKeys.RepeatedKeys.of(c.sideInput(repeatedKeys));
      }
      KV<String, Encoded<Row>> event = c.element();
      if (repeated.mayRepeat(event.getKey())) {
        c.output(event);
      } else {
        c.output(KeepEarliestPerKey.SINGLE, event.getValue());
      }
    }
  }

  /** Keys an event by its dedup key, the event encoded for the shuffle. */
  static class KeyEncodedFn extends DoFn<Row, KV<String, Encoded<Row>>> {
    private final int keyIndex;
    private final RowCoder rowCoder;

    KeyEncodedFn(int keyIndex, RowCoder rowCoder) {
      this.keyIndex = keyIndex;
      this.rowCoder = rowCoder;
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<KV<String, Encoded<Row>>> out) {
      out.output(KV.of(dedupKey(event, keyIndex), Encoded.of(event, rowCoder)));
    }
  }

  /** The choice: the earliest event time, then the smallest canonical serialization. */
  static boolean isBetter(long ts, String serialized, long currentTs, String currentSerialized) {
    if (ts != currentTs) {
      return ts < currentTs;
    }
    return serialized.compareTo(currentSerialized) < 0;
  }

  /**
   * The bounded path: all copies of a key in one group. Outputs the kept copy as it came, encoded,
   * at its event time. Events without a key value never get here: {@link SplitFn} passes them on.
   */
  static class KeepEarliestFn extends DoFn<KV<String, Iterable<Encoded<Row>>>, Encoded<Row>> {
    private static final Counter EXACT = Counters.counter(Counters.DUPLICATES_EXACT);
    private static final Counter CONFLICTING = Counters.counter(Counters.DUPLICATES_CONFLICTING);

    private final int timestampIndex;
    private transient long exact;
    private transient long conflicting;

    KeepEarliestFn(int timestampIndex) {
      this.timestampIndex = timestampIndex;
    }

    @StartBundle
    public void startBundle() {
      exact = 0;
      conflicting = 0;
    }

    @FinishBundle
    public void finishBundle() {
      EXACT.inc(exact);
      CONFLICTING.inc(conflicting);
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<Encoded<Row>>> group, OutputReceiver<Encoded<Row>> out) {
      Iterator<Encoded<Row>> copies = group.getValue().iterator();
      Encoded<Row> best = copies.next();
      Row first = best.get();
      long bestTs = EventRows.eventTimeMillis(first, timestampIndex);
      String bestSerialized = EventRows.canonical(first);
      Set<String> distinct = new HashSet<>();
      distinct.add(bestSerialized);
      long total = 1;
      while (copies.hasNext()) {
        Encoded<Row> copy = copies.next();
        Row row = copy.get();
        String serialized = EventRows.canonical(row);
        long ts = EventRows.eventTimeMillis(row, timestampIndex);
        total++;
        distinct.add(serialized);
        if (isBetter(ts, serialized, bestTs, bestSerialized)) {
          best = copy;
          bestSerialized = serialized;
          bestTs = ts;
        }
      }
      exact += total - distinct.size();
      conflicting += distinct.size() - 1;
      // A group is stamped with the end of the global window; the kept copy gets its own time.
      out.outputWithTimestamp(best, new Instant(bestTs));
    }

    /** Moving a group's output back to its event time is the point (see process). */
    @SuppressWarnings("deprecation")
    @Override
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE);
    }
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
      return DeduplicateEvents.isBetter(ts, serialized,
          EventRows.eventTimeMillis(current, timestampIndex), EventRows.canonical(current));
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
