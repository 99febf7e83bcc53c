package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.Fixtures.counter;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.testing.TestPipelineExtension;
import java.time.LocalDate;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class RecordErrorsTest {

  /** What, why, then where the root cause was thrown, down to the last frame of FeatureBeam's. */
  @Test
  void theDetailPutsClassMessageAndCausesBeforeTheOwnFrames() {
    ArithmeticException root = new ArithmeticException("/ by zero");
    root.setStackTrace(new StackTraceElement[] {
        new StackTraceElement("dev.featurebeam.spec.ValueParser", "parse", "ValueParser.java", 10),
        new StackTraceElement("java.math.BigDecimal", "divide", "BigDecimal.java", 20),
        new StackTraceElement("dev.featurebeam.transforms.ValidateFn", "process", "ValidateFn.java", 30),
        new StackTraceElement("org.apache.beam.runners.direct.ParDoEvaluator", "process", "P.java", 40),
        new StackTraceElement("java.lang.Thread", "run", "Thread.java", 50)});
    RuntimeException error = new IllegalStateException("cannot parse", root);
    assertThat(RecordErrors.detail(error), equalTo(
        "java.lang.IllegalStateException: cannot parse\n"
            + "Caused by: java.lang.ArithmeticException: / by zero\n"
            + "\tat dev.featurebeam.spec.ValueParser.parse(ValueParser.java:10)\n"
            + "\tat java.math.BigDecimal.divide(BigDecimal.java:20)\n"
            + "\tat dev.featurebeam.transforms.ValidateFn.process(ValidateFn.java:30)"));
  }

  /** Without a frame of FeatureBeam's, every frame is kept; an exception without a message is its class. */
  @Test
  void foreignFramesAreKeptWhenThereIsNoOwnFrame() {
    NullPointerException npe = new NullPointerException();
    npe.setStackTrace(new StackTraceElement[] {
        new StackTraceElement("java.util.Objects", "requireNonNull", "Objects.java", 1),
        new StackTraceElement("java.lang.Thread", "run", "Thread.java", 2)});
    assertThat(RecordErrors.detail(npe), equalTo("java.lang.NullPointerException\n"
        + "\tat java.util.Objects.requireNonNull(Objects.java:1)\n"
        + "\tat java.lang.Thread.run(Thread.java:2)"));
    QuarantineRecord q = RecordErrors.quarantineRecord("clean", npe, "f.csv:3", "a,b", -1);
    assertThat(q.reason(), equalTo("ERROR:clean"));
    assertThat(q.source(), equalTo("f.csv:3"));
    assertThat(q.payload(), equalTo("a,b"));
    assertThat(q.detail(), startsWith("java.lang.NullPointerException\n\tat java.util.Objects"));
  }

  /**
   * Through the whole feature path: one record throws in validation and one in cleaning (made to,
   * through the test seam). Both are in the path's quarantine with their reasons and payloads, the
   * other records give their feature rows, and the report's identity still holds.
   */
  @Test
  void buildFeaturesQuarantinesErrorsOfValidationAndCleaningAndGoesOn(TestPipeline p) {
    List<RawRecord> records = Fixtures.records(String.join("\n",
        "event_id,user_id,ts,status",
        "e1,U1,2025-01-05T10:00:00Z,ok",
        "e2,u2,2025-01-05T10:00:00Z,ok",
        "e3,u3,2025-01-05T10:00:00Z,ok",
        "e4,u1,2025-01-05T11:00:00Z,",
        "e5,U4,2025-01-04T09:00:00Z,ok"));
    FaultForTests faults = (step, record) -> {
      Fixtures.throwFor("validate", "e2").before(step, record);
      Fixtures.throwFor("clean", "e3").before(step, record);
    };
    PCollectionTuple built = p.apply(Create.of(records).withCoder(RawRecord.RawRecordCoder.of()))
        .apply(BuildFeatures.of(CleanEventsTest.CLEANING, AsOfRange.single(LocalDate.parse("2025-01-05")))
            .withFaultForTests(faults));
    PAssert.that(built.get(BuildFeatures.FEATURES)
            .apply("Rows", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
        .containsInAnyOrder("u1,2025-01-05,2", "u4,2025-01-05,1");
    Row e3 = Row.withSchema(CleanEventsTest.CLEANING.eventSchema())
        .addValues("e3", "u3", new org.joda.time.Instant(1_736_071_200_000L), "ok",
            null, null, null, null, null, null)
        .build();
    PAssert.that(built.get(BuildFeatures.QUARANTINED)
            .apply("Quarantine", MapElements.into(TypeDescriptors.strings())
                .via((QuarantineRecord q) -> q.reason() + "|" + q.source() + "|" + q.payload())))
        .containsInAnyOrder(
            "ERROR:validate|test:3|e2,u2,2025-01-05T10:00:00Z,ok",
            "ERROR:clean||" + EventRows.canonical(e3));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    long read = counter(result, Counters.NAMESPACE, Counters.READ);
    long valid = counter(result, Counters.NAMESPACE, Counters.VALID);
    long quarantined = counter(result, Counters.NAMESPACE, Counters.QUARANTINED);
    assertThat(read, equalTo(5L));
    assertThat(valid, equalTo(3L));
    assertThat(quarantined, equalTo(2L));
    assertThat(read, equalTo(valid + quarantined
        + counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT)
        + counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING)
        + counter(result, Counters.NAMESPACE, Counters.OUT_OF_RANGE)
        + counter(result, Counters.NAMESPACE, Counters.BLANK)));
  }
}
