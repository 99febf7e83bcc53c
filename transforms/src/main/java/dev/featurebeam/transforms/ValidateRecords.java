package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import java.util.stream.Collectors;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Parses raw records into canonical event rows per the spec's source schema, timestamped with
 * their event time. A record that breaks a rule is quarantined with its reason code and its
 * raw payload: {@code MALFORMED}, {@code MISSING:f}, {@code BAD_TYPE:f}, {@code OUT_OF_RANGE:f},
 * {@code BAD_TIMESTAMP:f}; a record whose validation throws is quarantined as {@code
 * ERROR:validate} with the exception ({@link RecordErrors}) and the run goes on. Strings are
 * stripped of surrounding white space here, so that "  " is missing like "". A {@link
 * RawRecord#blank blank} line counts as read and as blank ({@link Counters}) and gives nothing
 * else.
 *
 * <pre>{@code
 * PCollectionTuple out = records.apply(ValidateRecords.of(spec));
 * PCollection<Row> events = out.get(ValidateRecords.VALID);
 * PCollection<QuarantineRecord> quarantined = out.get(ValidateRecords.QUARANTINED);
 * }</pre>
 */
@AutoValue
public abstract class ValidateRecords extends PTransform<PCollection<RawRecord>, PCollectionTuple> {
  public static final TupleTag<Row> VALID = new TupleTag<Row>() {};
  public static final TupleTag<QuarantineRecord> QUARANTINED = new TupleTag<QuarantineRecord>() {};

  /** The step name in {@code ERROR:validate}. */
  static final String STEP = "validate";

  /** Valid rows as they leave the validating step, encoded ({@link EncodedRows}). */
  static final TupleTag<Encoded<Row>> VALID_ENCODED = new TupleTag<Encoded<Row>>() {};

  abstract FeatureSpec spec();

  abstract FaultForTests fault();

  /** Validates against {@code spec}'s source schema. */
  public static ValidateRecords of(FeatureSpec spec) {
    return new AutoValue_ValidateRecords(checkNotNull(spec, "a spec is needed"), FaultForTests.NONE);
  }

  /** For tests: {@code fault} runs before each record's validation (see {@link FaultForTests}). */
  ValidateRecords withFaultForTests(FaultForTests fault) {
    return new AutoValue_ValidateRecords(spec(), checkNotNull(fault, "fault"));
  }

  @Override
  public PCollectionTuple expand(PCollection<RawRecord> input) {
    RowCoder rowCoder = RowCoder.of(spec().eventSchema());
    return EncodedRows.withQuarantine(input, "ParseAndValidate",
        new ValidateFn(spec(), rowCoder, fault()), rowCoder, VALID_ENCODED, VALID, QUARANTINED);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayData.item("fields", spec().fields().stream()
                .map(FieldSpec::name).collect(Collectors.joining(", ")))
            .withLabel("Source fields"))
        .add(DisplayData.item("timestamp", spec().timestamp()).withLabel("Event time field"))
        .add(DisplayData.item("sourceTimezone", spec().sourceTimezone())
            .withLabel("Time zone of local timestamps"));
  }
}
