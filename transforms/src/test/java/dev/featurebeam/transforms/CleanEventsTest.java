package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.ValidateRecordsTest.rec;
import static dev.featurebeam.transforms.Fixtures.counter;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.sameInstance;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class CleanEventsTest {
  /** 2025-01-05T10:00:00Z */
  static final Instant TS = new Instant(1_736_071_200_000L);
  /** 2025-01-06T00:00:00Z */
  static final Instant TS2 = new Instant(1_736_121_600_000L);

  static final FeatureSpec CLEANING = SpecParser.parse(
      "feature_set: c\n"
          + "version: 1\n"
          + "entity: user_id\n"
          + "timestamp: ts\n"
          + "dedup_key: event_id\n"
          + "source_schema:\n"
          + "  event_id: {type: string, required: true}\n"
          + "  user_id:  {type: string, required: true, case: lower}\n"
          + "  ts:       {type: timestamp, required: true}\n"
          + "  status:   {type: string, case: upper, default: unknown}\n"
          + "  channel:  {type: string, default: Web}\n"
          + "  amount:   {type: double, default: 0}\n"
          + "  n:        {type: long, default: 5}\n"
          + "  flag:     {type: boolean, default: true}\n"
          + "  seen:     {type: timestamp, default: \"2025-01-01\"}\n"
          + "  note:     {type: string}\n"
          + "features:\n"
          + "  - {name: c, agg: count, window: 7d}\n");

  static final FeatureSpec PLAIN = SpecParser.parse(
      "feature_set: c\n"
          + "version: 1\n"
          + "entity: user_id\n"
          + "timestamp: ts\n"
          + "source_schema:\n"
          + "  user_id:  {type: string, required: true}\n"
          + "  ts:       {type: timestamp, required: true}\n"
          + "  status:   {type: string}\n"
          + "  amount:   {type: double}\n"
          + "features:\n"
          + "  - {name: c, agg: count, window: 7d}\n");

  static PCollection<String> csv(PCollection<Row> rows) {
    return rows.apply("AsCsv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
  }

  @Test
  void caseAndDefaultsAreApplied(TestPipeline p) {
    org.apache.beam.sdk.schemas.Schema s = CLEANING.eventSchema();
    List<Row> rows = List.of(
        // all optional fields missing: every default, cased where the field says so
        Row.withSchema(s).addValues("e1", "U1", TS, null, null, null, null, null, null, "Keep Me").build(),
        // values present: kept, only cased
        Row.withSchema(s).addValues("e2", "User_Two", TS, "Success", "App", 3.5, 7L, false, TS2, null).build(),
        // already in the right case
        Row.withSchema(s).addValues("E3", "u3", TS, "FAILED", "web", 0.0, 0L, true, TS, "x").build());
    PCollection<Row> out = p.apply(Create.of(rows).withRowSchema(s)).apply(CleanEvents.of(CLEANING))
        .get(CleanEvents.CLEANED);
    PAssert.that(csv(out)).containsInAnyOrder(
        "e1,u1,2025-01-05T10:00:00Z,UNKNOWN,Web,0.0,5,true,2025-01-01T00:00:00Z,Keep Me",
        "e2,user_two,2025-01-05T10:00:00Z,SUCCESS,App,3.5,7,false,2025-01-06T00:00:00Z,",
        "E3,u3,2025-01-05T10:00:00Z,FAILED,web,0.0,0,true,2025-01-05T10:00:00Z,x");
    p.run().waitUntilFinish();
  }

  @Test
  void afterValidationEmptyValuesGetDefaultsAndKeepTheirEventTime(TestPipeline p) {
    List<RawRecord> raw = List.of(
        rec("s:1", "event_id", "e1", "user_id", " MiXeD ", "ts", "2025-01-05T10:00:00Z", "status", "",
            "channel", "  ", "amount", "", "n", "", "flag", "", "seen", ""),
        rec("s:2", "event_id", "e2", "user_id", "u2", "ts", "2025-01-06", "status", "pending", "amount", "1.25"));
    PCollection<Row> out = p.apply(Create.of(raw).withCoder(RawRecord.RawRecordCoder.of()))
        .apply(ValidateRecords.of(CLEANING))
        .get(ValidateRecords.VALID)
        .apply(CleanEvents.of(CLEANING))
        .get(CleanEvents.CLEANED);
    PAssert.that(csv(out)).containsInAnyOrder(
        "e1,mixed,2025-01-05T10:00:00Z,UNKNOWN,Web,0.0,5,true,2025-01-01T00:00:00Z,",
        "e2,u2,2025-01-06T00:00:00Z,PENDING,Web,1.25,5,true,2025-01-01T00:00:00Z,");
    PAssert.that(out.apply("Stamps", ParDo.of(new ValidateRecordsTest.StampFn())))
        .containsInAnyOrder("e1@1736071200000", "e2@1736121600000");
    p.run().waitUntilFinish();
  }

  /**
   * An event whose cleaning throws (made to, through the test seam: no valid event does) is
   * quarantined as ERROR:clean, with the event as validation read it for payload and no source,
   * and counted as quarantined; the other events are cleaned.
   */
  @Test
  void anEventWhoseCleaningThrowsIsQuarantinedAndTheOthersAreCleaned(TestPipeline p) {
    org.apache.beam.sdk.schemas.Schema s = CLEANING.eventSchema();
    Row boom = Row.withSchema(s)
        .addValues("e2", "User_Two", TS, "Success", "App", 3.5, 7L, false, TS2, null).build();
    List<Row> rows = List.of(
        Row.withSchema(s).addValues("e1", "U1", TS, null, null, null, null, null, null, "Keep Me").build(),
        boom,
        Row.withSchema(s).addValues("E3", "u3", TS, "FAILED", "web", 0.0, 0L, true, TS, "x").build());
    PCollectionTuple out = p.apply(Create.of(rows).withRowSchema(s))
        .apply(CleanEvents.of(CLEANING).withFaultForTests(Fixtures.throwFor("clean", "e2")));
    PAssert.that(csv(out.get(CleanEvents.CLEANED))).containsInAnyOrder(
        "e1,u1,2025-01-05T10:00:00Z,UNKNOWN,Web,0.0,5,true,2025-01-01T00:00:00Z,Keep Me",
        "E3,u3,2025-01-05T10:00:00Z,FAILED,web,0.0,0,true,2025-01-05T10:00:00Z,x");
    PAssert.that(out.get(CleanEvents.QUARANTINED)
            .apply("Describe", MapElements.into(TypeDescriptors.strings())
                .via((QuarantineRecord q) -> q.reason() + "|" + q.source() + "|" + q.payload()
                    + "|" + q.detail().substring(0, q.detail().indexOf('\n')))))
        .containsInAnyOrder("ERROR:clean||" + EventRows.canonical(boom)
            + "|java.lang.IllegalStateException: injected for e2");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.QUARANTINED), equalTo(1L));
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "ERROR:clean"), equalTo(1L));
  }

  @Test
  void displayDataNamesTheCleanedFields() {
    Map<String, String> data = Fixtures.displayData(CleanEvents.of(CLEANING));
    assertThat(data.get("featureSet"), equalTo("c v1"));
    assertThat(data.get("cleanedFields"), equalTo("user_id, status, channel, amount, n, flag, seen"));
  }

  @Test
  void aSpecWithoutCleaningPassesRowsUnchanged(TestPipeline p) {
    org.apache.beam.sdk.schemas.Schema s = PLAIN.eventSchema();
    List<Row> rows = List.of(
        Row.withSchema(s).addValues("MiXeD", TS, "Success", null).build(),
        Row.withSchema(s).addValues("u2", TS2, null, 2.5).build());
    PCollection<Row> in = p.apply(Create.of(rows).withRowSchema(s));
    PCollectionTuple cleaned = in.apply(CleanEvents.of(PLAIN));
    PCollection<Row> out = cleaned.get(CleanEvents.CLEANED);
    assertThat(out, sameInstance(in));
    PAssert.that(cleaned.get(CleanEvents.QUARANTINED)).empty();
    PAssert.that(out).containsInAnyOrder(rows);
    PAssert.that(csv(out)).containsInAnyOrder(
        "MiXeD,2025-01-05T10:00:00Z,Success,", "u2,2025-01-06T00:00:00Z,,2.5");
    p.run().waitUntilFinish();
  }
}
