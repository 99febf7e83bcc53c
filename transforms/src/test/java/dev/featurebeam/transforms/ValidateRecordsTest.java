package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.Fixtures.counter;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.spec.ValueParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class ValidateRecordsTest {

  static final FeatureSpec SPEC = SpecParser.parse(
      "feature_set: v\n"
          + "version: 1\n"
          + "entity: user_id\n"
          + "timestamp: ts\n"
          + "dedup_key: event_id\n"
          + "source_schema:\n"
          + "  event_id: {type: string, required: true}\n"
          + "  user_id:  {type: string, required: true}\n"
          + "  amount:   {type: double, min: 0}\n"
          + "  n:        {type: long, max: 100}\n"
          + "  status:   {type: string}\n"
          + "  ts:       {type: timestamp, required: true}\n"
          + "features:\n"
          + "  - {name: c, agg: count, window: 7d}\n");

  static final FeatureSpec KOLKATA = SpecParser.parse(
      "feature_set: v\n"
          + "version: 1\n"
          + "entity: user_id\n"
          + "timestamp: ts\n"
          + "source_timezone: Asia/Kolkata\n"
          + "source_schema:\n"
          + "  user_id:  {type: string, required: true}\n"
          + "  ts:       {type: timestamp, required: true}\n"
          + "features:\n"
          + "  - {name: c, agg: count, window: 7d}\n");

  /** A raw record from alternating names and values (a null value is an explicit null). */
  static RawRecord rec(String source, String... kv) {
    Map<String, String> fields = new LinkedHashMap<>();
    StringBuilder payload = new StringBuilder("{");
    for (int i = 0; i < kv.length; i += 2) {
      fields.put(kv[i], kv[i + 1]);
      payload.append(i > 0 ? "," : "").append(kv[i]).append('=').append(kv[i + 1]);
    }
    return RawRecord.of(source, payload.append('}').toString(), fields);
  }

  static String describe(RawRecord r, String reason) {
    return reason + "|" + r.source() + "|" + r.payload();
  }

  static PCollectionTuple validate(TestPipeline p, FeatureSpec spec, RawRecord... records) {
    return p.apply(Create.of(Arrays.asList(records)).withCoder(RawRecord.RawRecordCoder.of()))
        .apply(ValidateRecords.of(spec));
  }

  static PCollection<String> quarantined(PCollectionTuple out) {
    return out.get(ValidateRecords.QUARANTINED)
        .apply("DescribeQuarantine", MapElements.into(TypeDescriptors.strings())
            .via((QuarantineRecord q) -> q.reason() + "|" + q.source() + "|" + q.payload()));
  }

  static PCollection<String> valid(PCollectionTuple out) {
    return out.get(ValidateRecords.VALID)
        .apply("ValidAsCsv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
  }

  @Test
  void everyQuarantineReasonKeepsPayloadAndSource(TestPipeline p) {
    RawRecord malformed = RawRecord.malformed("file.csv:7", "e0,u0,\"oops", "unterminated quote");
    RawRecord absent = rec("s:1", "event_id", "e1", "ts", "2025-01-05T10:00:00Z");
    RawRecord empty = rec("s:2", "event_id", "e2", "user_id", "", "ts", "2025-01-05T10:00:00Z");
    RawRecord blank = rec("s:3", "event_id", "e3", "user_id", "   ", "ts", "2025-01-05T10:00:00Z");
    RawRecord explicitNull = rec("s:4", "event_id", "e4", "user_id", null, "ts", "2025-01-05T10:00:00Z");
    RawRecord abc = rec("s:5", "event_id", "e5", "user_id", "u1", "amount", "abc", "ts", "2025-01-05T10:00:00Z");
    RawRecord nan = rec("s:6", "event_id", "e6", "user_id", "u1", "amount", "NaN", "ts", "2025-01-05T10:00:00Z");
    RawRecord inf = rec("s:7", "event_id", "e7", "user_id", "u1", "amount", "Infinity", "ts", "2025-01-05T10:00:00Z");
    RawRecord negative = rec("s:8", "event_id", "e8", "user_id", "u1", "amount", "-0.01", "ts", "2025-01-05T10:00:00Z");
    RawRecord overMax = rec("s:9", "event_id", "e9", "user_id", "u1", "n", "101", "ts", "2025-01-05T10:00:00Z");
    RawRecord halfLong = rec("s:10", "event_id", "e10", "user_id", "u1", "n", "12.5", "ts", "2025-01-05T10:00:00Z");
    RawRecord badTs = rec("s:11", "event_id", "e11", "user_id", "u1", "ts", "yesterday");
    RawRecord noTs = rec("s:12", "event_id", "e12", "user_id", "u1", "ts", "");

    PCollectionTuple out = validate(p, SPEC, malformed, absent, empty, blank, explicitNull, abc, nan,
        inf, negative, overMax, halfLong, badTs, noTs);
    PAssert.that(quarantined(out)).containsInAnyOrder(
        describe(malformed, "MALFORMED"),
        describe(absent, "MISSING:user_id"),
        describe(empty, "MISSING:user_id"),
        describe(blank, "MISSING:user_id"),
        describe(explicitNull, "MISSING:user_id"),
        describe(abc, "BAD_TYPE:amount"),
        describe(nan, "BAD_TYPE:amount"),
        describe(inf, "BAD_TYPE:amount"),
        describe(negative, "OUT_OF_RANGE:amount"),
        describe(overMax, "OUT_OF_RANGE:n"),
        describe(halfLong, "BAD_TYPE:n"),
        describe(badTs, "BAD_TIMESTAMP:ts"),
        describe(noTs, "MISSING:ts"));
    PAssert.that(out.get(ValidateRecords.VALID)).empty();

    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.READ), equalTo(13L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.QUARANTINED), equalTo(13L));
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "MISSING:user_id"), equalTo(4L));
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "BAD_TYPE:amount"), equalTo(3L));
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "MALFORMED"), equalTo(1L));
  }

  /** A typed source's record: text for the strings, native values for the rest. */
  static RawRecord typed(String source, String eventId, Object amount, Object n, Object ts) {
    Map<String, Object> values = new LinkedHashMap<>();
    values.put("amount", amount);
    values.put("n", n);
    values.put("ts", ts);
    values.values().removeIf(java.util.Objects::isNull);
    return RawRecord.typed(source, "{" + eventId + "}",
        Map.of("event_id", eventId, "user_id", "u1"), values);
  }

  /**
   * Native values skip the text but not the rules: a finite number, the bounds, the years
   * 1900-2262; a valid one gives the row its text gives.
   */
  @Test
  void nativeValuesMeetTheSameRulesAsText(TestPipeline p) {
    long t = java.time.Instant.parse("2025-01-05T10:00:00.250Z").toEpochMilli();
    RawRecord ok = typed("t:1", "e1", 2.5, 7L, t);
    RawRecord nan = typed("t:2", "e2", Double.NaN, 7L, t);
    RawRecord negative = typed("t:3", "e3", -0.01, 7L, t);
    RawRecord overMax = typed("t:4", "e4", 1.0, 101L, t);
    RawRecord year1800 = typed("t:5", "e5", 1.0, 7L,
        java.time.Instant.parse("1800-01-01T00:00:00Z").toEpochMilli());
    RawRecord noTs = typed("t:6", "e6", 1.0, 7L, null);
    PCollectionTuple out = validate(p, SPEC, ok, nan, negative, overMax, year1800, noTs,
        rec("c:1", "event_id", "e7", "user_id", "u1", "amount", "2.5", "n", "7",
            "ts", "2025-01-05T10:00:00.250Z"));
    PAssert.that(valid(out)).containsInAnyOrder("e1,u1,2.5,7,,2025-01-05T10:00:00.250Z",
        "e7,u1,2.5,7,,2025-01-05T10:00:00.250Z");
    PAssert.that(quarantined(out)).containsInAnyOrder(
        describe(nan, "BAD_TYPE:amount"),
        describe(negative, "OUT_OF_RANGE:amount"),
        describe(overMax, "OUT_OF_RANGE:n"),
        describe(year1800, "BAD_TIMESTAMP:ts"),
        describe(noTs, "MISSING:ts"));
    p.run().waitUntilFinish();
  }

  /** A blank line is read and counted as blank, and gives neither a row nor a quarantine record. */
  @Test
  void blankLinesAreCountedAndDropped(TestPipeline p) {
    PCollectionTuple out = validate(p, SPEC,
        RawRecord.blank("f.csv:1"),
        rec("f.csv:3", "event_id", "e1", "user_id", "u1", "ts", "2025-01-05T10:00:00Z"),
        RawRecord.blank("f.csv:4"),
        RawRecord.blank("f.jsonl:9"),
        rec("f.csv:5", "event_id", "e2", "user_id", "", "ts", "2025-01-05T10:00:00Z"));
    PAssert.that(valid(out)).containsInAnyOrder("e1,u1,,,,2025-01-05T10:00:00Z");
    PAssert.that(out.get(ValidateRecords.QUARANTINED)
            .apply(MapElements.into(TypeDescriptors.strings()).via(QuarantineRecord::source)))
        .containsInAnyOrder("f.csv:5");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.READ), equalTo(5L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.BLANK), equalTo(3L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.QUARANTINED), equalTo(1L));
  }

  /**
   * A record whose validation throws (made to, through the test seam: no real record does) is
   * quarantined as ERROR:validate with its payload and source, the exception first in the detail,
   * and counted as quarantined; the records before and after it are validated as usual.
   */
  @Test
  void aRecordWhoseValidationThrowsIsQuarantinedAndTheOthersGoOn(TestPipeline p) {
    RawRecord first = rec("s:1", "event_id", "e1", "user_id", "u1", "ts", "2025-01-05T10:00:00Z");
    RawRecord boom = rec("s:2", "event_id", "boom", "user_id", "u2", "ts", "2025-01-05T11:00:00Z");
    RawRecord missing = rec("s:3", "event_id", "e3", "ts", "2025-01-05T10:00:00Z");
    RawRecord last = rec("s:4", "event_id", "e4", "user_id", "u4", "amount", "2.5",
        "ts", "2025-01-05T12:00:00Z");
    PCollectionTuple out =
        p.apply(Create.of(Arrays.asList(first, boom, missing, last))
                .withCoder(RawRecord.RawRecordCoder.of()))
            .apply(ValidateRecords.of(SPEC).withFaultForTests(Fixtures.throwFor("validate", "boom")));
    PAssert.that(valid(out)).containsInAnyOrder(
        "e1,u1,,,,2025-01-05T10:00:00Z", "e4,u4,2.5,,,2025-01-05T12:00:00Z");
    PAssert.that(quarantined(out)).containsInAnyOrder(
        describe(boom, "ERROR:validate"), describe(missing, "MISSING:user_id"));
    PAssert.that(out.get(ValidateRecords.QUARANTINED)
            .apply("Details", MapElements.into(TypeDescriptors.strings())
                .via((QuarantineRecord q) -> q.reason() + "|" + q.detail())))
        .satisfies(details -> {
          for (String d : details) {
            if (d.startsWith("ERROR:validate|")) {
              assertThat(d, org.hamcrest.Matchers.startsWith("ERROR:validate|"
                  + "java.lang.IllegalStateException: injected for boom\n"
                  + "Caused by: java.lang.ArithmeticException: root cause\n"
                  + "\tat dev.featurebeam.transforms.Fixtures."));
              assertThat(d, org.hamcrest.Matchers.containsString(
                  "\tat dev.featurebeam.transforms.ValidateFn.process("));
              assertThat(d, org.hamcrest.Matchers.not(
                  org.hamcrest.Matchers.containsString("org.apache.beam.runners")));
            }
          }
          return null;
        });
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.READ), equalTo(4L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.QUARANTINED), equalTo(2L));
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "ERROR:validate"), equalTo(1L));
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "MISSING:user_id"), equalTo(1L));
  }

  @Test
  void displayDataNamesTheSpec() {
    Map<String, String> data = Fixtures.displayData(ValidateRecords.of(KOLKATA));
    assertThat(data.get("featureSet"), equalTo("v v1"));
    assertThat(data.get("fields"), equalTo("user_id, ts"));
    assertThat(data.get("timestamp"), equalTo("ts"));
    assertThat(data.get("sourceTimezone"), equalTo("Asia/Kolkata"));
  }

  @Test
  void malformedKeepsTheFormatErrorAsDetail(TestPipeline p) {
    PCollectionTuple out = validate(p, SPEC, RawRecord.malformed("f:2", "a,b", "CSV line has 2 columns, header has 6"));
    PAssert.that(out.get(ValidateRecords.QUARANTINED)
            .apply(MapElements.into(TypeDescriptors.strings()).via(QuarantineRecord::detail)))
        .containsInAnyOrder("CSV line has 2 columns, header has 6");
    p.run().waitUntilFinish();
  }

  @Test
  void theFirstFailingFieldInSpecOrderWins(TestPipeline p) {
    // amount comes before n and ts in the schema; the raw map lists them in another order
    RawRecord twoBad = rec("s:1", "ts", "garbage", "n", "500", "amount", "-5", "user_id", "u1", "event_id", "e1");
    RawRecord missingAndBad = rec("s:2", "amount", "abc", "ts", "2025-01-05T10:00:00Z", "event_id", "e2");
    RawRecord badTypeThenTs = rec("s:3", "event_id", "e3", "user_id", "u1", "n", "x", "ts", "nope");
    PCollectionTuple out = validate(p, SPEC, twoBad, missingAndBad, badTypeThenTs);
    PAssert.that(quarantined(out)).containsInAnyOrder(
        describe(twoBad, "OUT_OF_RANGE:amount"),
        describe(missingAndBad, "MISSING:user_id"),
        describe(badTypeThenTs, "BAD_TYPE:n"));
    p.run().waitUntilFinish();
  }

  @Test
  void validRowsAreParsedAndCleanedOfWhitespace(TestPipeline p) {
    PCollectionTuple out = validate(p, SPEC,
        // "12.50" -> 12.5, " u1 " -> "u1", an optional empty field -> null, unknown fields ignored
        rec("s:1", "event_id", "e1", "user_id", " u1 ", "amount", "12.50", "n", "", "status", " ok ",
            "ts", "2025-01-05T10:00:00Z", "colour", "red"),
        // epoch millis
        rec("s:2", "event_id", "e2", "user_id", "u2", "amount", "0", "n", "+12", "ts", "1736071200000"),
        // an offset moves the instant: 10:00+05:30 is 04:30Z
        rec("s:3", "event_id", "e3", "user_id", "u3", "ts", "2025-01-05T10:00:00+05:30"),
        // no offset: UTC; optional fields absent altogether
        rec("s:4", "event_id", "e4", "user_id", "u4", "amount", " 7 ", "n", "100", "ts", "2025-01-05T10:00:00"),
        // a bare date is its midnight
        rec("s:5", "event_id", "e5", "user_id", "u5", "status", "  ", "ts", "2025-01-05"));
    PAssert.that(valid(out)).containsInAnyOrder(
        "e1,u1,12.5,,ok,2025-01-05T10:00:00Z",
        "e2,u2,0.0,12,,2025-01-05T10:00:00Z",
        "e3,u3,,,,2025-01-05T04:30:00Z",
        "e4,u4,7.0,100,,2025-01-05T10:00:00Z",
        "e5,u5,,,,2025-01-05T00:00:00Z");
    PAssert.that(out.get(ValidateRecords.QUARANTINED)).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void longsAreAsciiDigitsWithAnOptionalSign(TestPipeline p) {
    RawRecord arabicIndic = rec("s:1", "event_id", "e1", "user_id", "u1", "n", "\u0661\u0662", "ts", "2025-01-05T10:00:00Z");
    RawRecord exponent = rec("s:2", "event_id", "e2", "user_id", "u1", "n", "1e3", "ts", "2025-01-05T10:00:00Z");
    RawRecord decimal = rec("s:3", "event_id", "e3", "user_id", "u1", "n", "1.0", "ts", "2025-01-05T10:00:00Z");
    RawRecord tooBig = rec("s:4", "event_id", "e4", "user_id", "u1", "n", "9223372036854775808", "ts", "2025-01-05T10:00:00Z");
    PCollectionTuple out = validate(p, SPEC, arabicIndic, exponent, decimal, tooBig,
        rec("s:5", "event_id", "e5", "user_id", "u1", "n", "+12", "ts", "2025-01-05T10:00:00Z"),
        rec("s:6", "event_id", "e6", "user_id", "u1", "n", "-0", "ts", "2025-01-05T10:00:00Z"));
    PAssert.that(quarantined(out)).containsInAnyOrder(
        describe(arabicIndic, "BAD_TYPE:n"), describe(exponent, "BAD_TYPE:n"),
        describe(decimal, "BAD_TYPE:n"), describe(tooBig, "BAD_TYPE:n"));
    PAssert.that(valid(out)).containsInAnyOrder(
        "e5,u1,,12,,2025-01-05T10:00:00Z", "e6,u1,,0,,2025-01-05T10:00:00Z");
    p.run().waitUntilFinish();
  }

  /** Every declared type is a scalar: a nested JSON value in a declared field is BAD_TYPE. */
  @Test
  void aNestedValueInADeclaredFieldIsABadType(TestPipeline p) {
    RawRecord objectEntity = nested("s:1", "user_id", "{\"a\":1}", "event_id", "e1", "ts", "2025-01-05T10:00:00Z");
    RawRecord arrayEntity = nested("s:2", "user_id", "[1,2]", "event_id", "e2", "ts", "2025-01-05T10:00:00Z");
    RawRecord emptyObjectAmount = nested("s:3", "amount", "{}", "event_id", "e3", "user_id", "u1",
        "ts", "2025-01-05T10:00:00Z");
    RawRecord arrayTs = nested("s:4", "ts", "[]", "event_id", "e4", "user_id", "u1");
    // event_id comes first in the schema: its missing value wins over the nested user_id.
    RawRecord missingFirst = nested("s:5", "user_id", "{\"a\":1}", "ts", "2025-01-05T10:00:00Z");
    PCollectionTuple out = validate(p, SPEC, objectEntity, arrayEntity, emptyObjectAmount, arrayTs,
        missingFirst,
        // an undeclared field may be nested: it is ignored as ever
        nested("s:6", "meta", "{\"a\":[1]}", "event_id", "e6", "user_id", "u6", "ts", "2025-01-05T10:00:00Z"));
    PAssert.that(out.get(ValidateRecords.QUARANTINED)
            .apply(MapElements.into(TypeDescriptors.strings())
                .via((QuarantineRecord q) -> q.source() + "|" + q.reason() + "|" + q.detail())))
        .containsInAnyOrder(
            "s:1|BAD_TYPE:user_id|user_id: a JSON object where a string is declared",
            "s:2|BAD_TYPE:user_id|user_id: a JSON array where a string is declared",
            "s:3|BAD_TYPE:amount|amount: a JSON object where a double is declared",
            "s:4|BAD_TYPE:ts|ts: a JSON array where a timestamp is declared",
            "s:5|MISSING:event_id|event_id is missing or empty");
    PAssert.that(valid(out)).containsInAnyOrder("e6,u6,,,,2025-01-05T10:00:00Z");
    p.run().waitUntilFinish();
  }

  /** As {@link #rec}, the first named field's value being nested JSON, as JsonLineParser gives it. */
  static RawRecord nested(String source, String nestedName, String json, String... kv) {
    String[] all = new String[kv.length + 2];
    all[0] = nestedName;
    all[1] = json;
    System.arraycopy(kv, 0, all, 2, kv.length);
    RawRecord r = rec(source, all);
    return RawRecord.of(r.source(), r.payload(), r.fields(), java.util.Set.of(nestedName));
  }

  @Test
  void validRowsHaveTypedValues(TestPipeline p) {
    PCollectionTuple out = validate(p, SPEC,
        rec("s:1", "event_id", "e1", "user_id", "u1", "amount", "12.50", "n", "3", "ts", "1736071200000"));
    PAssert.that(out.get(ValidateRecords.VALID)
            .apply(MapElements.into(TypeDescriptors.strings()).via((Row r) ->
                r.getValue("amount").getClass().getSimpleName() + "," + r.getValue("n").getClass().getSimpleName()
                    + "," + r.getDateTime("ts").getMillis())))
        .containsInAnyOrder("Double,Long,1736071200000");
    p.run().waitUntilFinish();
  }

  @Test
  void noOffsetIsReadInTheSourceTimezone(TestPipeline p) {
    PCollectionTuple out = validate(p, KOLKATA,
        rec("s:1", "user_id", "u1", "ts", "2025-01-05T10:00:00"),
        rec("s:2", "user_id", "u2", "ts", "2025-01-05T10:00:00Z"));
    PAssert.that(valid(out)).containsInAnyOrder("u1,2025-01-05T04:30:00Z", "u2,2025-01-05T10:00:00Z");
    p.run().waitUntilFinish();
  }

  @Test
  void theElementTimestampIsTheEventTime(TestPipeline p) {
    PCollectionTuple out = validate(p, SPEC,
        rec("s:1", "event_id", "e1", "user_id", "u1", "ts", "2025-01-05T10:00:00Z"),
        rec("s:2", "event_id", "e2", "user_id", "u1", "ts", "2025-01-05T10:00:00+05:30"),
        rec("s:3", "event_id", "e3", "user_id", "u1", "ts", "0"));
    PCollection<String> stamps = out.get(ValidateRecords.VALID)
        .apply(ParDo.of(new StampFn()));
    PAssert.that(stamps).containsInAnyOrder(
        "e1@1736071200000", "e2@1736051400000", "e3@0");
    p.run().waitUntilFinish();
  }

  static final FeatureSpec TWO_TIMES = SpecParser.parse(
      "feature_set: v\n"
          + "version: 1\n"
          + "entity: user_id\n"
          + "timestamp: ts\n"
          + "source_schema:\n"
          + "  user_id:  {type: string, required: true}\n"
          + "  ts:       {type: timestamp, required: true}\n"
          + "  seen:     {type: timestamp}\n"
          + "features:\n"
          + "  - {name: c, agg: count, window: 7d}\n");

  @Test
  void everyTimestampFieldIsInTheYears1900To2262(TestPipeline p) {
    RawRecord beforeTs = rec("s:1", "user_id", "u1", "ts", "1899-12-31T23:59:59.999Z");
    RawRecord afterTs = rec("s:2", "user_id", "u1", "ts", "2263-01-01T00:00:00Z");
    RawRecord yearZeroSeen = rec("s:3", "user_id", "u1", "ts", "2025-01-05T10:00:00Z", "seen", "0000-01-01T00:00:00Z");
    RawRecord year10000Seen = rec("s:4", "user_id", "u1", "ts", "2025-01-05T10:00:00Z", "seen", "+10000-01-01T00:00:00Z");
    PCollectionTuple out = validate(p, TWO_TIMES, beforeTs, afterTs, yearZeroSeen, year10000Seen,
        rec("s:5", "user_id", "u5", "ts", "1900-01-01T00:00:00Z", "seen", "2262-12-31T23:59:59.999Z"),
        rec("s:6", "user_id", "u6", "ts", "2262-12-31T23:59:59.999Z", "seen", "1900-01-01T00:00:00Z"));
    PAssert.that(quarantined(out)).containsInAnyOrder(
        describe(beforeTs, "BAD_TIMESTAMP:ts"), describe(afterTs, "BAD_TIMESTAMP:ts"),
        describe(yearZeroSeen, "BAD_TIMESTAMP:seen"), describe(year10000Seen, "BAD_TIMESTAMP:seen"));
    PAssert.that(valid(out)).containsInAnyOrder(
        "u5,1900-01-01T00:00:00Z,2262-12-31T23:59:59.999Z",
        "u6,2262-12-31T23:59:59.999Z,1900-01-01T00:00:00Z");
    p.run().waitUntilFinish();
  }

  @Test
  void epochNumbersReadInTheFieldsFormat(TestPipeline p) {
    FeatureSpec seconds = SpecParser.parse(
        "feature_set: v\n"
            + "version: 1\n"
            + "entity: user_id\n"
            + "timestamp: ts\n"
            + "source_schema:\n"
            + "  user_id:  {type: string, required: true}\n"
            + "  ts:       {type: timestamp, required: true, format: epoch_seconds}\n"
            + "  seen:     {type: timestamp}\n"
            + "features:\n"
            + "  - {name: c, agg: count, window: 7d}\n");
    PCollectionTuple out = validate(p, seconds,
        rec("s:1", "user_id", "u1", "ts", "1736071200", "seen", "1736071200"),
        rec("s:2", "user_id", "u2", "ts", "1736071200.123456", "seen", "1736071200123"),
        rec("s:3", "user_id", "u3", "ts", "2025-01-05T10:00:00Z", "seen", "2025-01-05T10:00:00Z"));
    // ts is in seconds; seen, without a format, in milliseconds (1736071200 ms is in 1970).
    PAssert.that(valid(out)).containsInAnyOrder(
        "u1,2025-01-05T10:00:00Z,1970-01-21T02:14:31.200Z",
        "u2,2025-01-05T10:00:00.123Z,2025-01-05T10:00:00.123Z",
        "u3,2025-01-05T10:00:00Z,2025-01-05T10:00:00Z");
    PAssert.that(out.get(ValidateRecords.QUARANTINED)).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void aTimestampOutsideItsMinOrMaxIsABadTimestampNamingTheBound(TestPipeline p) {
    FeatureSpec bounded = SpecParser.parse(
        "feature_set: v\n"
            + "version: 1\n"
            + "entity: user_id\n"
            + "timestamp: ts\n"
            + "source_schema:\n"
            + "  user_id:  {type: string, required: true}\n"
            + "  seen:     {type: timestamp, min: \"2020-01-01\", max: 2030-01-01T00:00:00Z}\n"
            + "  ts:       {type: timestamp, required: true, min: 2024-01-01}\n"
            + "features:\n"
            + "  - {name: c, agg: count, window: 7d}\n");
    RawRecord early = rec("s:1", "user_id", "u1", "seen", "2019-12-31T23:59:59.999Z", "ts", "2025-01-05T10:00:00Z");
    RawRecord late = rec("s:2", "user_id", "u1", "seen", "2030-01-01T00:00:00.001Z", "ts", "2025-01-05T10:00:00Z");
    // seen comes before ts in the schema, so its reason wins.
    RawRecord both = rec("s:3", "user_id", "u1", "seen", "2031-01-01", "ts", "2023-12-31");
    RawRecord earlyTs = rec("s:4", "user_id", "u1", "ts", "2023-12-31T23:59:59Z");
    PCollectionTuple out = validate(p, bounded, early, late, both, earlyTs,
        rec("s:5", "user_id", "u5", "seen", "2020-01-01T00:00:00Z", "ts", "2024-01-01T00:00:00Z"),
        rec("s:6", "user_id", "u6", "seen", "2030-01-01T00:00:00Z", "ts", "2025-01-05T10:00:00Z"));
    PAssert.that(out.get(ValidateRecords.QUARANTINED)
            .apply(MapElements.into(TypeDescriptors.strings())
                .via((QuarantineRecord q) -> q.source() + "|" + q.reason() + "|" + q.detail())))
        .containsInAnyOrder(
            "s:1|BAD_TIMESTAMP:seen|seen: 2019-12-31T23:59:59.999Z is before its min 2020-01-01T00:00:00Z",
            "s:2|BAD_TIMESTAMP:seen|seen: 2030-01-01T00:00:00.001Z is after its max 2030-01-01T00:00:00Z",
            "s:3|BAD_TIMESTAMP:seen|seen: 2031-01-01 is after its max 2030-01-01T00:00:00Z",
            "s:4|BAD_TIMESTAMP:ts|ts: 2023-12-31T23:59:59Z is before its min 2024-01-01T00:00:00Z");
    PAssert.that(valid(out)).containsInAnyOrder(
        "u5,2020-01-01T00:00:00Z,2024-01-01T00:00:00Z", "u6,2030-01-01T00:00:00Z,2025-01-05T10:00:00Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.QUARANTINE_NAMESPACE, "BAD_TIMESTAMP:seen"), equalTo(3L));
  }

  /** The year rule is what keeps event times inside what Beam carries, de-duplication's timer too. */
  @Test
  void theLatestEventTimeLeavesRoomForDeduplicationsTimer() {
    assertThat(ValueParser.END_TIMESTAMP_MILLIS < DedupByStateFn.FORGET_BY, equalTo(true));
    assertThat(ValueParser.MIN_TIMESTAMP_MILLIS > BoundedWindow.TIMESTAMP_MIN_VALUE.getMillis(), equalTo(true));
  }

  @Test
  void timestampsBeamCannotCarryAreQuarantinedNotFatal(TestPipeline p) {
    // Beam timestamps stop around the year 294247; the pipeline must not crash on such a record.
    RawRecord farFuture = rec("s:1", "event_id", "e1", "user_id", "u1", "ts", "9223372036854775807");
    RawRecord farPast = rec("s:2", "event_id", "e2", "user_id", "u1", "ts", "-9223372036854775807");
    RawRecord ok = rec("s:3", "event_id", "e3", "user_id", "u1", "ts", "2025-01-05T10:00:00Z");
    PCollectionTuple out = validate(p, SPEC, farFuture, farPast, ok);
    PAssert.that(quarantined(out)).containsInAnyOrder(
        describe(farFuture, "BAD_TIMESTAMP:ts"), describe(farPast, "BAD_TIMESTAMP:ts"));
    PAssert.that(valid(out)).containsInAnyOrder("e3,u1,,,,2025-01-05T10:00:00Z");
    p.run().waitUntilFinish();
  }

  /** "event_id@element timestamp millis". */
  static class StampFn extends DoFn<Row, String> {
    @ProcessElement
    public void process(ProcessContext c) {
      c.output(c.element().getString("event_id") + "@" + c.timestamp().getMillis());
    }
  }
}
