package dev.featurebeam.transforms;

import dev.featurebeam.spec.FeatureSpec;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Drops events no as-of date of the run can read — at or after the last as-of instant, or before
 * the first instant minus the longest window — and counts them as {@code out_of_range}. Runs after
 * de-duplication, so that a backfill and the single-date runs it stands for keep the same copy of a
 * duplicated event.
 */
public class KeepEventsInRange extends PTransform<PCollection<Row>, PCollection<Row>> {
  private static final Counter VALID = Counters.counter(Counters.VALID);
  private static final Counter OUT_OF_RANGE = Counters.counter(Counters.OUT_OF_RANGE);

  private final FeatureSpec spec;
  private final AsOfRange range;

  private KeepEventsInRange(FeatureSpec spec, AsOfRange range) {
    this.spec = spec;
    this.range = range;
  }

  public static KeepEventsInRange of(FeatureSpec spec, AsOfRange range) {
    return new KeepEventsInRange(spec, range);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> events) {
    long first = range.firstUsefulMillis(spec);
    long end = range.endMillis(spec.asOf());
    int ts = spec.fieldIndex(spec.timestamp());
    return events
        .apply("DropOutOfRange", ParDo.of(new DoFn<Row, Row>() {
          // Counted per bundle: a metrics lookup per event costs more than the test.
          private transient long valid;
          private transient long outOfRange;

          @StartBundle
          public void startBundle() {
            valid = 0;
            outOfRange = 0;
          }

          @FinishBundle
          public void finishBundle() {
            VALID.inc(valid);
            OUT_OF_RANGE.inc(outOfRange);
          }

          @ProcessElement
          public void process(@Element Row row, OutputReceiver<Row> out) {
            long t = EventRows.eventTimeMillis(row, ts);
            if (t >= first && t < end) {
              valid++;
              out.output(row);
            } else {
              outOfRange++;
            }
          }
        }))
        .setCoder(events.getCoder());
  }
}
