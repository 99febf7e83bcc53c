package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.spec.FeatureSpec;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Drops events no as-of date of the run can read — at or after the last as-of instant, or before
 * the first instant minus the longest window — and counts them as {@code out_of_range}; the rest
 * count as {@code valid}. Runs after de-duplication, so that a backfill and the single-date runs
 * it stands for keep the same copy of a duplicated event.
 */
@AutoValue
public abstract class KeepEventsInRange extends PTransform<PCollection<Row>, PCollection<Row>> {
  abstract FeatureSpec spec();

  abstract AsOfRange range();

  /** Keeps the events some as-of date of {@code range} reads with {@code spec}'s windows. */
  public static KeepEventsInRange of(FeatureSpec spec, AsOfRange range) {
    checkNotNull(spec, "a spec is needed");
    checkNotNull(range, "a range is needed");
    return new AutoValue_KeepEventsInRange(spec, range);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> events) {
    return events
        .apply("DropOutOfRange", ParDo.of(new DropOutOfRangeFn(
            range().firstUsefulMillis(spec()), range().endMillis(spec().asOf()),
            spec().fieldIndex(spec().timestamp()))))
        .setCoder(events.getCoder());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    long first = range().firstUsefulMillis(spec());
    long end = range().endMillis(spec().asOf());
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayItems.range(range()))
        .add(DisplayData.item("from", first == Long.MIN_VALUE ? "the whole history"
                : java.time.Instant.ofEpochMilli(first).toString())
            .withLabel("Earliest event time kept"))
        .add(DisplayData.item("until", end == Long.MAX_VALUE ? "no end"
                : java.time.Instant.ofEpochMilli(end).toString())
            .withLabel("Events from this instant on are dropped"));
  }

  /** Keeps events in {@code [first, end)}; counts per bundle, as a lookup costs more than the test. */
  static class DropOutOfRangeFn extends DoFn<Row, Row> {
    private final long first;
    private final long end;
    private final int timestampIndex;
    private final BundleCounter valid = BundleCounter.of(Counters.VALID);
    private final BundleCounter outOfRange = BundleCounter.of(Counters.OUT_OF_RANGE);

    DropOutOfRangeFn(long first, long end, int timestampIndex) {
      this.first = first;
      this.end = end;
      this.timestampIndex = timestampIndex;
    }

    @FinishBundle
    public void finishBundle() {
      BundleCounter.flush(valid, outOfRange);
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> out) {
      long t = EventRows.eventTimeMillis(row, timestampIndex);
      if (t >= first && t < end) {
        valid.inc();
        out.output(row);
      } else {
        outOfRange.inc();
      }
    }
  }
}
