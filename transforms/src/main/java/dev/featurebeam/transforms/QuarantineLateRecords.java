package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
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
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Separates the records of a stream that come too late to count from those that count. A record
 * first matters to the as-of date D0 whose instant is the first after its event time (its Beam
 * timestamp); D0 is <em>closed</em> once the watermark has passed D0's instant, which is when the
 * offline store publishes D0 (a source allows lateness by holding its watermark back, as
 * {@code KafkaSource.withAllowedLateness} does). A record whose D0 is closed is
 * quarantined as {@code LATE:<timestamp field>}, with its payload, and counted in {@code late} and
 * {@code quarantined}; it never changes a published partition. Every other record passes on.
 *
 * <p>Beam shows a DoFn no watermark, so the dates are closed by event-time timers: records are
 * spread over {@link #withBuckets buckets}, each bucket keeps one timer at the next date's closing
 * time (all buckets start at the first date, from a seed, so none waits for its first record),
 * and a pending timer holds this step's output watermark just before that time. So no step after
 * this one can close a date before every bucket has closed it here: a record this step lets pass
 * always reaches the stages that compute and publish its date in time.
 *
 * <p>A record whose event time could not be read carries its source's watermark as its timestamp,
 * so it is never late: it passes on to validation, which quarantines it with its own reason. The
 * dates run from the range's first date to its last, or forever for an open-ended range (then the
 * input must be unbounded: a bounded one ends with the watermark at infinity, which would close
 * dates without end).
 */
@AutoValue
public abstract class QuarantineLateRecords
    extends PTransform<PCollection<RawRecord>, PCollectionTuple> {
  /** Records that count. */
  public static final TupleTag<RawRecord> ON_TIME = new TupleTag<RawRecord>() {};

  /** Late records, as quarantine records. */
  public static final TupleTag<QuarantineRecord> LATE = new TupleTag<QuarantineRecord>() {};

  abstract FeatureSpec spec();

  abstract AsOfRange range();

  abstract int buckets();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setRange(AsOfRange range);

    abstract Builder setBuckets(int buckets);

    abstract QuarantineLateRecords build();
  }

  /** Closes the range's dates as the watermark passes their as-of instants. */
  public static QuarantineLateRecords of(FeatureSpec spec, AsOfRange range) {
    checkArgument(spec != null && range != null, "a spec and a range are needed");
    return new AutoValue_QuarantineLateRecords.Builder()
        .setSpec(spec)
        .setRange(range)
        .setBuckets(16)
        .build();
  }

  /** Keys over which the records are spread; at least the parallelism, 16 unless set. */
  public QuarantineLateRecords withBuckets(int buckets) {
    checkArgument(buckets >= 1, "buckets must be at least 1, got %s", buckets);
    return toBuilder().setBuckets(buckets).build();
  }

  @Override
  public PCollectionTuple expand(PCollection<RawRecord> records) {
    checkArgument(!range().isOpenEnded() || records.isBounded() == PCollection.IsBounded.UNBOUNDED,
        "a bounded input needs a range with a last date: its end would close dates without end");
    KvCoder<Integer, RawRecord> keyed =
        KvCoder.of(VarIntCoder.of(), NullableCoder.of(RawRecord.RawRecordCoder.of()));
    List<KV<Integer, RawRecord>> seeds = new ArrayList<>();
    for (int b = 0; b < buckets(); b++) {
      seeds.add(KV.of(b, null));
    }
    PCollection<KV<Integer, RawRecord>> seed =
        records.getPipeline().apply("SeedBuckets", Create.of(seeds).withCoder(keyed));
    int buckets = buckets();
    PCollection<KV<Integer, RawRecord>> byBucket =
        records
            .apply("InGlobalWindow", Window.into(new GlobalWindows()))
            .apply("ByBucket", ParDo.of(new DoFn<RawRecord, KV<Integer, RawRecord>>() {
              @ProcessElement
              public void process(@Element RawRecord r, OutputReceiver<KV<Integer, RawRecord>> out) {
                out.output(KV.of(Math.floorMod(r.source().hashCode(), buckets), r));
              }
            }))
            .setCoder(keyed);
    PCollectionTuple out =
        PCollectionList.of(seed)
            .and(byBucket)
            .apply("SeedsAndRecords", Flatten.pCollections())
            .apply("CloseDates", ParDo.of(new CloseDatesFn(spec().timestamp(), spec().asOf(),
                    range()))
                .withOutputTags(ON_TIME, TupleTagList.of(LATE)));
    out.get(ON_TIME).setCoder(RawRecord.RawRecordCoder.of());
    out.get(LATE).setCoder(QuarantineRecord.QuarantineRecordCoder.of());
    return out;
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayItems.range(range()))
        .add(DisplayData.item("buckets", buckets()).withLabel("Buckets"));
  }

  /**
   * The as-of date a record at {@code millis} first matters to: the date whose instant is the first
   * after it.
   */
  static long firstDate(AsOf asOf, long millis) {
    return asOf.epochDayOfInstant(Math.floorDiv(millis, AsOf.DAY_MILLIS) * AsOf.DAY_MILLIS
        + AsOf.DAY_MILLIS);
  }

  /** Per bucket: the last closed date and one timer at the next one's closing time. */
  static class CloseDatesFn extends DoFn<KV<Integer, RawRecord>, RawRecord> {
    private static final Counter LATE_COUNT = Counters.counter(Counters.LATE);

    private final String timestampField;
    private final AsOf asOf;
    private final AsOfRange range;

    /** The last closed date; unset until the bucket's first element arms its timer. */
    @StateId("closed")
    private final StateSpec<ValueState<Long>> closedSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("close")
    private final TimerSpec closeSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    CloseDatesFn(String timestampField, AsOf asOf, AsOfRange range) {
      this.timestampField = timestampField;
      this.asOf = asOf;
      this.range = range;
    }

    /** When {@code day} closes: its as-of instant. */
    private Instant closingTime(long day) {
      return new Instant(asOf.instantOfEpochDay(day));
    }

    private void arm(Timer timer, long day) {
      // Held just before the closing time: nothing downstream may close the date first.
      Instant at = closingTime(day);
      timer.withOutputTimestamp(at.minus(Duration.millis(1))).set(at);
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, RawRecord> element,
        @Timestamp Instant timestamp,
        @StateId("closed") ValueState<Long> closed,
        @TimerId("close") Timer timer,
        MultiOutputReceiver out) {
      Long read = closed.read();
      long last = read == null ? range.fromDay() - 1 : read;
      if (read == null) {
        closed.write(last);
        arm(timer, last + 1);
      }
      RawRecord record = element.getValue();
      if (record == null) {
        return; // a bucket's seed
      }
      // A record from before the first date counts for the first date's windows.
      long date = Math.max(firstDate(asOf, timestamp.getMillis()), range.fromDay());
      if (date <= last) {
        LATE_COUNT.inc();
        Counters.countQuarantined("LATE:" + timestampField);
        out.get(LATE).output(QuarantineRecord.of("LATE:" + timestampField,
            timestampField + ": " + java.time.Instant.ofEpochMilli(timestamp.getMillis())
                + " first counts as of " + AsOf.utcDate(date) + ", which closed at "
                + java.time.Instant.ofEpochMilli(closingTime(date).getMillis())
                + " (its as-of instant)",
            record.source(), record.payload(), record.payloadLength()));
      } else {
        out.get(ON_TIME).output(record);
      }
    }

    @OnTimer("close")
    public void onClose(
        @StateId("closed") ValueState<Long> closed, @TimerId("close") Timer timer) {
      long last = closed.read() + 1;
      closed.write(last);
      if (!range.isOpenEnded() && last >= range.toDay()) {
        return; // every date of the range is closed; later records are out of its range
      }
      arm(timer, last + 1);
    }

    /**
     * A timer's hold lies before the closing time, which may be before the timestamp of the record
     * that sets it (a record of a later date): that is the point of the hold.
     */
    @SuppressWarnings("deprecation")
    @Override
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE);
    }
  }
}
