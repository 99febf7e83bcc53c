package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.spec.FeatureSpec;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Keeps one event per dedup key. Exact duplicates are dropped; among differing ones the earliest
 * event time wins, ties broken by the smallest canonical serialization, so the choice never
 * depends on arrival order. Counts {@code duplicates_exact} (copies of a kept serialization) and
 * {@code duplicates_conflicting} (other serializations). A spec without a {@code dedup_key} keeps
 * every event (the input is returned as is). Beam's {@code Deduplicate} keeps the first copy to
 * arrive, which is not deterministic for conflicting duplicates, hence this step.
 *
 * <p>Two implementations apply the same rule ({@link #isBetter}) and give the same rows and counts;
 * {@link #withMethod} chooses, and {@link Method#AUTO} picks by the input's boundedness:
 *
 * <ul>
 *   <li>{@link Method#GROUP_REPEATED_KEYS}, bounded input only: the events whose key occurs more
 *       than once ({@link FindRepeatedKeys}) are grouped by key and the choice is made per group;
 *       the rest, nearly all of them in practice, pass straight on.
 *   <li>{@link Method#STATE_AND_TIMERS}, any input: per-key state with an event-time timer, since a
 *       global grouping never fires on a stream. The choice is made when the watermark passes the
 *       earliest copy; copies that arrive later (within {@link #HORIZON}) are dropped and counted.
 * </ul>
 *
 * <p>Either way the kept copy keeps its event time, in the global window.
 */
@AutoValue
public abstract class DeduplicateEvents extends PTransform<PCollection<Row>, PCollection<Row>> {
  /** How long after an event's time its key is remembered to drop copies that come later. */
  public static final Duration HORIZON = Duration.standardDays(1);

  /** How the copies of a key are brought together. */
  public enum Method {
    /** {@link #GROUP_REPEATED_KEYS} for a bounded input, {@link #STATE_AND_TIMERS} otherwise. */
    AUTO,
    /** Group only the events whose key repeats, once all are at hand. Bounded input only. */
    GROUP_REPEATED_KEYS,
    /** Per-key state and event-time timers, which the watermark fires. Any input. */
    STATE_AND_TIMERS;

    /** The method {@code AUTO} stands for on {@code input}, or this one. */
    Method resolve(PCollection<?> input) {
      if (this != AUTO) {
        return this;
      }
      return input.isBounded() == PCollection.IsBounded.BOUNDED
          ? GROUP_REPEATED_KEYS
          : STATE_AND_TIMERS;
    }
  }

  abstract FeatureSpec spec();

  abstract Method method();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setMethod(Method method);

    abstract DeduplicateEvents build();
  }

  /** De-duplicates by {@code spec}'s {@code dedup_key}; {@link Method#AUTO} unless set. */
  public static DeduplicateEvents of(FeatureSpec spec) {
    checkNotNull(spec, "a spec is needed");
    return new AutoValue_DeduplicateEvents.Builder().setSpec(spec).setMethod(Method.AUTO).build();
  }

  /** Which implementation runs; {@link Method#GROUP_REPEATED_KEYS} needs a bounded input. */
  public DeduplicateEvents withMethod(Method method) {
    return toBuilder().setMethod(checkNotNull(method, "a method is needed")).build();
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> events) {
    if (spec().dedupKey() == null) {
      return events;
    }
    Method method = method().resolve(events);
    boolean bounded = events.isBounded() == PCollection.IsBounded.BOUNDED;
    checkArgument(bounded || method != Method.GROUP_REPEATED_KEYS,
        "GROUP_REPEATED_KEYS needs a bounded input; a stream takes STATE_AND_TIMERS (or AUTO)");
    RowCoder rowCoder = RowCoder.of(spec().eventSchema());
    int keyIndex = spec().fieldIndex(spec().dedupKey());
    int timestampIndex = spec().fieldIndex(spec().timestamp());
    // The default END_OF_WINDOW timestamp combiner: Flink's batch runner groups such a
    // GroupByKey without a pre-combining sort; the kept copy gets its event time back.
    PCollection<Row> inGlobalWindow =
        events.apply("InGlobalWindow", Window.<Row>into(new GlobalWindows()));
    if (method == Method.GROUP_REPEATED_KEYS) {
      return inGlobalWindow.apply("KeepEarliestPerKey",
          KeepEarliestPerKey.of(keyIndex, timestampIndex, rowCoder));
    }
    return inGlobalWindow
        .apply(
            "KeyByDedupKey",
            WithKeys.of((Row r) -> dedupKey(r, keyIndex)).withKeyType(TypeDescriptors.strings()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), rowCoder))
        // Only a stream needs to forget keys: a bounded input ends, and with it the state.
        .apply("KeepOnePerKey", ParDo.of(new KeepOneFn(rowCoder, timestampIndex, !bounded)))
        .setCoder(rowCoder);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .addIfNotNull(DisplayData.item("dedupKey", spec().dedupKey()).withLabel("Dedup key"))
        .add(DisplayData.item("method", method().name()).withLabel("Method"))
        .add(DisplayData.item("horizon", HORIZON).withLabel("Keys remembered on a stream for"));
  }

  /** The dedup key's value as text; "" when the event has none (never a duplicate). */
  static String dedupKey(Row event, int keyIndex) {
    Object k = EventRows.plainValue(event, keyIndex);
    return k == null ? "" : k.toString();
  }

  /** The choice: the earliest event time, then the smallest canonical serialization. */
  static boolean isBetter(long ts, String serialized, long currentTs, String currentSerialized) {
    if (ts != currentTs) {
      return ts < currentTs;
    }
    return serialized.compareTo(currentSerialized) < 0;
  }
}
