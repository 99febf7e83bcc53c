package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Applies the spec's declared cleaning to valid events: {@code case: lower|upper} on string fields
 * and {@code default:} where an optional value is missing. (Timestamps are already UTC instants
 * and strings already stripped by {@link ValidateRecords}.) Outputs the cleaned events ({@link
 * #CLEANED}, each at its event time) and the events whose cleaning threw ({@link #QUARANTINED},
 * reason {@code ERROR:clean}; see {@link CleanFn}). A spec that declares no cleaning passes the
 * events through untouched, as {@link #CLEANED}, and quarantines nothing.
 */
@AutoValue
public abstract class CleanEvents extends PTransform<PCollection<Row>, PCollectionTuple> {
  public static final TupleTag<Row> CLEANED = new TupleTag<Row>() {};
  public static final TupleTag<QuarantineRecord> QUARANTINED = new TupleTag<QuarantineRecord>() {};

  /** The step name in {@code ERROR:clean}. */
  static final String STEP = "clean";

  static final TupleTag<Encoded<Row>> CLEANED_ENCODED = new TupleTag<Encoded<Row>>() {};

  abstract FeatureSpec spec();

  abstract FaultForTests fault();

  /** Cleans events of {@code spec}'s event schema as its fields declare. */
  public static CleanEvents of(FeatureSpec spec) {
    return new AutoValue_CleanEvents(checkNotNull(spec, "a spec is needed"), FaultForTests.NONE);
  }

  /** For tests: {@code fault} runs before each event's cleaning (see {@link FaultForTests}). */
  CleanEvents withFaultForTests(FaultForTests fault) {
    return new AutoValue_CleanEvents(spec(), checkNotNull(fault, "fault"));
  }

  static boolean hasCleaning(FeatureSpec spec) {
    return !cleanedFields(spec).isEmpty();
  }

  /** The fields with a {@code case} or a {@code default}, in spec order. */
  static List<String> cleanedFields(FeatureSpec spec) {
    List<String> names = new ArrayList<>();
    for (FieldSpec f : spec.fields()) {
      if (f.caseMode() != null || f.defaultValue() != null) {
        names.add(f.name());
      }
    }
    return names;
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> input) {
    checkArgument(!input.hasSchema()
            || input.getSchema().getFieldNames().equals(spec().eventSchema().getFieldNames()),
        "CleanEvents needs events with the spec's fields %s, got %s",
        spec().eventSchema().getFieldNames(), input.hasSchema() ? input.getSchema() : null);
    if (!hasCleaning(spec())) {
      // Nothing can throw: no quarantine, in the input's windowing so that it flattens with others.
      PCollection<QuarantineRecord> none =
          input.getPipeline()
              .apply("NoErrors", Create.empty(QuarantineRecord.QuarantineRecordCoder.of()))
              .setWindowingStrategyInternal(input.getWindowingStrategy());
      return PCollectionTuple.of(CLEANED, input).and(QUARANTINED, none);
    }
    RowCoder rowCoder = RowCoder.of(spec().eventSchema());
    return EncodedRows.withQuarantine(input, "CaseAndDefaults",
        new CleanFn(spec(), rowCoder, fault()), rowCoder, CLEANED_ENCODED, CLEANED, QUARANTINED);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayData.item("cleanedFields", String.join(", ", cleanedFields(spec())))
            .withLabel("Fields with case or default"));
  }
}
