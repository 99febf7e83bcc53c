package dev.featurebeam.spec;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpecParserTest {
  private static final long DAY = 86_400_000L;
  private static final long HOUR = 3_600_000L;

  private static byte[] resource(String name) {
    try (InputStream in = SpecParserTest.class.getResourceAsStream("/spec/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- the full example spec ------------------------------------------------------------

  @Test
  void parsesTheSpecMdExampleTopLevel() throws Exception {
    byte[] bytes = resource("spec_md_example.yaml");
    FeatureSpec spec = SpecParser.parse(bytes);
    assertThat(spec.featureSet(), equalTo("user_features"));
    assertThat(spec.version(), equalTo(1));
    assertThat(spec.entity(), equalTo("user_id"));
    assertThat(spec.timestamp(), equalTo("ts"));
    assertThat(spec.dedupKey(), equalTo("event_id"));
    assertThat(spec.asOf(), equalTo(AsOf.END_OF_DAY));
    assertThat(spec.sourceTimezone(), equalTo("UTC"));
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    assertThat(spec.sha256(), equalTo(sha));
  }

  @Test
  void parsesTheSpecMdExampleFields() {
    FeatureSpec spec = SpecParser.parse(resource("spec_md_example.yaml"));
    assertThat(spec.fields(), contains(
        FieldSpec.of("event_id", FieldType.STRING, true, null, null),
        FieldSpec.of("user_id", FieldType.STRING, true, null, null),
        FieldSpec.of("event_type", FieldType.STRING, false, null, null),
        FieldSpec.of("amount", FieldType.DOUBLE, false, 0.0, null),
        FieldSpec.of("status", FieldType.STRING, false, null, null),
        FieldSpec.of("ts", FieldType.TIMESTAMP, true, null, null)));
    assertThat(spec.field("amount").min(), equalTo(0.0));
    assertThat(spec.field("amount").max(), nullValue());
    assertThat(spec.fieldIndex("ts"), equalTo(5));
    assertThat(spec.fieldIndex("nope"), equalTo(-1));
  }

  @Test
  void parsesTheSpecMdExampleFeatures() {
    FeatureSpec spec = SpecParser.parse(resource("spec_md_example.yaml"));
    List<FeatureDef> f = spec.features();
    assertThat(f.size(), equalTo(5));

    assertThat(f.get(0), equalTo(FeatureDef.of("avg_txn_amount_7d", Aggregation.AVG, "amount",
        604_800_000L, "7d", Map.of("status", List.of("success")))));
    assertThat(f.get(1), equalTo(FeatureDef.of("txn_count_7d", Aggregation.COUNT, null,
        604_800_000L, "7d", Map.of("status", List.of("success"), "event_type", List.of("purchase")))));
    // where keeps the spec's order
    assertThat(List.copyOf(f.get(1).where().keySet()), contains("status", "event_type"));
    assertThat(f.get(2), equalTo(FeatureDef.of("event_count_30d", Aggregation.COUNT, null,
        30 * DAY, "30d", Map.of())));
    assertThat(f.get(2).windowMillis(), equalTo(2_592_000_000L));
    assertThat(f.get(3), equalTo(FeatureDef.of("active_24h", Aggregation.EXISTS, null,
        24 * HOUR, "24h", Map.of())));
    assertThat(f.get(3).windowMillis(), equalTo(86_400_000L));
    assertThat(f.get(4), equalTo(FeatureDef.of("days_since_last", Aggregation.DAYS_SINCE_LAST, null,
        null, null, Map.of())));
    assertThat(f.get(4).isWindowed(), is(false));

    assertThat(spec.presenceWindowMillis(), equalTo(30 * DAY));
    assertThat(spec.hasUnboundedFeature(), is(true));
    assertThat(spec.lookbackMillis(), equalTo(Long.MAX_VALUE));
  }

  @Test
  void parsesTheSpecMdExampleQualityChecks() {
    FeatureSpec spec = SpecParser.parse(resource("spec_md_example.yaml"));
    List<QualityCheck> q = spec.quality();
    assertThat(q.size(), equalTo(4));

    assertThat(q.get(0).kind(), equalTo(QualityCheck.Kind.BETWEEN));
    assertThat(q.get(0).column(), equalTo("avg_txn_amount_7d"));
    assertThat(q.get(0).lo(), equalTo(0.0));
    assertThat(q.get(0).hi(), equalTo(1_000_000.0));
    assertThat(q.get(0).description(), equalTo("avg_txn_amount_7d between [0, 1000000]"));

    assertThat(q.get(1).kind(), equalTo(QualityCheck.Kind.NOT_NULL));
    assertThat(q.get(1).column(), equalTo("user_id"));

    assertThat(q.get(2).kind(), equalTo(QualityCheck.Kind.COMPARE));
    assertThat(q.get(2).left(), equalTo("txn_count_7d"));
    assertThat(q.get(2).op(), equalTo("<="));
    assertThat(q.get(2).right(), equalTo("event_count_30d"));
    assertThat(q.get(2).description(), equalTo("txn_count_7d <= event_count_30d"));

    assertThat(q.get(3).kind(), equalTo(QualityCheck.Kind.MAX_ROW_COUNT_CHANGE));
    assertThat(q.get(3).limit(), equalTo(0.2));
  }

  @Test
  void theSpecMdExampleOutputSchema() {
    FeatureSpec spec = SpecParser.parse(resource("spec_md_example.yaml"));
    assertThat(spec.outputColumns(), contains("user_id", "as_of_date", "avg_txn_amount_7d",
        "txn_count_7d", "event_count_30d", "active_24h", "days_since_last"));
    Schema s = spec.outputSchema();
    assertThat(s.getField("avg_txn_amount_7d").getType().getTypeName(), equalTo(Schema.TypeName.DOUBLE));
    assertThat(s.getField("txn_count_7d").getType().getTypeName(), equalTo(Schema.TypeName.INT64));
    assertThat(s.getField("active_24h").getType().getTypeName(), equalTo(Schema.TypeName.BOOLEAN));
    assertThat(s.getField("days_since_last").getType().getTypeName(), equalTo(Schema.TypeName.INT32));
    assertThat(spec.eventSchema().getFieldNames(),
        contains("event_id", "user_id", "event_type", "amount", "status", "ts"));
  }

  @Test
  void parsesFromAFileAndNamesTheFileInErrors(@TempDir Path dir) throws IOException {
    Path good = dir.resolve("good.yaml");
    Files.write(good, resource("spec_md_example.yaml"));
    assertThat(SpecParser.parse(good).featureSet(), equalTo("user_features"));

    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, spec("{name: f1, agg: median, window: 7d}"));
    SpecException e = assertThrows(SpecException.class, () -> SpecParser.parse(bad));
    assertThat(e.getMessage(), allOf(containsString("bad.yaml"), containsString("median")));
  }

  // ---- a small base spec to vary ------------------------------------------------------------

  private static final String HEAD =
      "feature_set: fs\n"
          + "version: 1\n"
          + "entity: user_id\n"
          + "timestamp: ts\n";

  private static final String SCHEMA =
      "source_schema:\n"
          + "  user_id: {type: string, required: true}\n"
          + "  ts:      {type: timestamp, required: true}\n"
          + "  amount:  {type: double, min: 0}\n"
          + "  n:       {type: long}\n"
          + "  flag:    {type: boolean}\n"
          + "  status:  {type: string}\n";

  /** The base spec with these feature lines. */
  private static String spec(String... features) {
    StringBuilder sb = new StringBuilder(HEAD).append(SCHEMA).append("features:\n");
    for (String f : features) {
      sb.append("  - ").append(f).append('\n');
    }
    return sb.toString();
  }

  private static String withQuality(String... checks) {
    StringBuilder sb = new StringBuilder(spec(
        "{name: cnt_7d, agg: count, window: 7d}",
        "{name: amt_7d, agg: sum, field: amount, window: 7d}"));
    sb.append("quality:\n");
    for (String c : checks) {
      sb.append("  - ").append(c).append('\n');
    }
    return sb.toString();
  }

  private static SpecException refused(String yaml) {
    return assertThrows(SpecException.class, () -> SpecParser.parse(yaml));
  }

  @Test
  void theBaseSpecParses() {
    FeatureSpec spec = SpecParser.parse(spec("{name: f1, agg: count, window: 7d}"));
    assertThat(spec.dedupKey(), nullValue());
    assertThat(spec.asOf(), equalTo(AsOf.END_OF_DAY));
    assertThat(spec.quality().size(), equalTo(0));
    assertThat(spec.lookbackMillis(), equalTo(7 * DAY));
  }

  @Test
  void startOfDayAndSourceTimezone() {
    FeatureSpec spec = SpecParser.parse(HEAD + "as_of: start_of_day\nsource_timezone: Asia/Kolkata\n"
        + SCHEMA + "features:\n  - {name: f1, agg: count, window: 90m}\n");
    assertThat(spec.asOf(), equalTo(AsOf.START_OF_DAY));
    assertThat(spec.sourceTimezone(), equalTo("Asia/Kolkata"));
    assertThat(spec.features().get(0).windowMillis(), equalTo(90 * 60_000L));
  }

  @Test
  void whereValuesAreTypedLikeTheirField() {
    FeatureSpec spec = SpecParser.parse(spec(
        "{name: f1, agg: count, window: 7d, where: {n: 5, amount: 12.50, flag: true, status: [a, b]}}",
        "{name: f2, agg: count, window: 7d, where: {ts: \"2025-01-05T00:00:00Z\", n: \"7\", amount: \"3\"}}"));
    Map<String, List<Object>> w1 = spec.features().get(0).where();
    assertThat(w1.get("n"), contains((Object) 5L));
    assertThat(w1.get("n").get(0), instanceOf(Long.class));
    assertThat(w1.get("amount"), contains((Object) 12.5d));
    assertThat(w1.get("amount").get(0), instanceOf(Double.class));
    assertThat(w1.get("flag"), contains((Object) Boolean.TRUE));
    assertThat(w1.get("status"), contains((Object) "a", "b"));
    Map<String, List<Object>> w2 = spec.features().get(1).where();
    assertThat(w2.get("ts"), contains((Object) 1_736_035_200_000L));
    assertThat(w2.get("n"), contains((Object) 7L));
    assertThat(w2.get("amount"), contains((Object) 3.0d));
  }

  @Test
  void whereTimestampWithoutOffsetIsReadInTheSourceTimezone() {
    FeatureSpec spec = SpecParser.parse(HEAD + "source_timezone: Asia/Kolkata\n" + SCHEMA
        + "features:\n  - {name: f1, agg: count, window: 7d, where: {ts: \"2025-01-05T05:30:00\"}}\n");
    assertThat(spec.features().get(0).where().get("ts"), contains((Object) 1_736_035_200_000L));
  }

  @Test
  void caseLowerLowersWhereValues() {
    String yaml = HEAD
        + "source_schema:\n"
        + "  user_id: {type: string, required: true}\n"
        + "  ts:      {type: timestamp, required: true}\n"
        + "  status:  {type: string, case: lower}\n"
        + "  kind:    {type: string, case: upper}\n"
        + "features:\n"
        + "  - {name: f1, agg: count, window: 7d, where: {status: SUCCESS, kind: [Purchase, refund]}}\n";
    FeatureSpec spec = SpecParser.parse(yaml);
    assertThat(spec.field("status").caseMode(), equalTo(FieldSpec.Case.LOWER));
    assertThat(spec.field("kind").caseMode(), equalTo(FieldSpec.Case.UPPER));
    assertThat(spec.features().get(0).where().get("status"), contains((Object) "success"));
    assertThat(spec.features().get(0).where().get("kind"), contains((Object) "PURCHASE", "REFUND"));
  }

  @Test
  void defaultsAreTyped() {
    String yaml = HEAD
        + "source_schema:\n"
        + "  user_id: {type: string, required: true}\n"
        + "  ts:      {type: timestamp, required: true}\n"
        + "  status:  {type: string, case: lower, default: UNKNOWN}\n"
        + "  amount:  {type: double, default: 0}\n"
        + "  n:       {type: long, default: \"5\"}\n"
        + "  flag:    {type: boolean, default: false}\n"
        + "  seen:    {type: timestamp, default: \"2025-01-05\"}\n"
        + "features:\n"
        + "  - {name: f1, agg: count, window: 7d}\n";
    FeatureSpec spec = SpecParser.parse(yaml);
    assertThat(spec.field("status").defaultValue(), equalTo("unknown"));
    assertThat(spec.field("amount").defaultValue(), equalTo(0.0d));
    assertThat(spec.field("n").defaultValue(), equalTo(5L));
    assertThat(spec.field("flag").defaultValue(), equalTo(false));
    assertThat(spec.field("seen").defaultValue(), equalTo(1_736_035_200_000L));
  }

  @Test
  void aDefaultOnARequiredFieldIsRefused() {
    String yaml = HEAD
        + "source_schema:\n"
        + "  user_id: {type: string, required: true}\n"
        + "  ts:      {type: timestamp, required: true}\n"
        + "  status:  {type: string, required: true, default: x}\n"
        + "features:\n"
        + "  - {name: f1, agg: count, window: 7d}\n";
    SpecException e = refused(yaml);
    assertThat(e.getMessage(), allOf(containsString("status"), containsString("default")));
  }

  @Test
  void aDefaultThatDoesNotParseIsRefused() {
    String yaml = HEAD + SCHEMA.replace("{type: long}", "{type: long, default: many}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n";
    SpecException e = refused(yaml);
    assertThat(e.getMessage(), allOf(containsString("'n'"), containsString("many")));
  }

  @Test
  void anOptionalEntityOrTimestampBecomesRequired() {
    String yaml = HEAD
        + "source_schema:\n"
        + "  user_id: {type: string}\n"
        + "  ts:      {type: timestamp}\n"
        + "features:\n"
        + "  - {name: f1, agg: count, window: 7d}\n";
    FeatureSpec spec = SpecParser.parse(yaml);
    assertThat(spec.field("user_id").required(), is(true));
    assertThat(spec.field("ts").required(), is(true));
  }

  @Test
  void timestampFormatIsEpochMillisUnlessTheFieldSaysEpochSeconds() {
    String yaml = HEAD
        + "source_schema:\n"
        + "  user_id: {type: string, required: true}\n"
        + "  ts:      {type: timestamp, format: epoch_seconds}\n"
        + "  seen:    {type: timestamp, format: epoch_millis, default: 1736035200000}\n"
        + "  sent:    {type: timestamp, format: epoch_seconds, default: 1736035200}\n"
        + "  other:   {type: timestamp}\n"
        + "features:\n"
        + "  - {name: f1, agg: count, window: 7d, where: {ts: 1736035200.5, other: 1736035200000}}\n";
    FeatureSpec spec = SpecParser.parse(yaml);
    // ts becomes required (it is the event time) and keeps its format.
    assertThat(spec.field("ts").required(), is(true));
    assertThat(spec.field("ts").timestampFormat(), equalTo(FieldSpec.TimestampFormat.EPOCH_SECONDS));
    assertThat(spec.field("seen").timestampFormat(), equalTo(FieldSpec.TimestampFormat.EPOCH_MILLIS));
    assertThat(spec.field("other").timestampFormat(), equalTo(FieldSpec.TimestampFormat.EPOCH_MILLIS));
    assertThat(spec.field("user_id").timestampFormat(), equalTo(FieldSpec.TimestampFormat.EPOCH_MILLIS));
    assertThat(spec.field("seen").defaultValue(), equalTo(1_736_035_200_000L));
    assertThat(spec.field("sent").defaultValue(), equalTo(1_736_035_200_000L));
    assertThat(spec.features().get(0).where().get("ts"), contains((Object) 1_736_035_200_500L));
    assertThat(spec.features().get(0).where().get("other"), contains((Object) 1_736_035_200_000L));
  }

  @Test
  void formatOnANonTimestampFieldOrAnUnknownFormatIsRefused() {
    SpecException e = refused(HEAD + SCHEMA.replace("{type: long}", "{type: long, format: epoch_seconds}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("'n'"), containsString("format"),
        containsString("timestamp")));
    e = refused(HEAD + SCHEMA.replace("{type: timestamp, required: true}",
        "{type: timestamp, required: true, format: epoch_nanos}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("'ts'"), containsString("'epoch_nanos'"),
        containsString("epoch_millis or epoch_seconds")));
  }

  /** min/max of a timestamp field are ISO-8601 text or a date, quoted or not, held as epoch millis. */
  @Test
  void timestampBoundsAreTimestamps() {
    String yaml = HEAD
        + "source_timezone: Asia/Kolkata\n"
        + "source_schema:\n"
        + "  user_id: {type: string, required: true}\n"
        + "  ts:      {type: timestamp, required: true, min: \"2020-01-01\", max: 2030-01-01T00:00:00Z}\n"
        + "  seen:    {type: timestamp, min: 2020-01-01, max: \"2030-01-01T00:00:00Z\"}\n"
        + "  sent:    {type: timestamp, format: epoch_seconds, min: 2025-01-05T10:00:00+05:30}\n"
        + "features:\n"
        + "  - {name: f1, agg: count, window: 7d}\n";
    FeatureSpec spec = SpecParser.parse(yaml);
    double jan2020Kolkata = java.time.Instant.parse("2019-12-31T18:30:00Z").toEpochMilli();
    double jan2030 = java.time.Instant.parse("2030-01-01T00:00:00Z").toEpochMilli();
    assertThat(spec.field("ts").min(), equalTo(jan2020Kolkata)); // a bare date is midnight in the zone
    assertThat(spec.field("ts").max(), equalTo(jan2030));
    assertThat(spec.field("seen").min(), equalTo(jan2020Kolkata));
    assertThat(spec.field("seen").max(), equalTo(jan2030));
    assertThat(spec.field("sent").min(), equalTo((double) (1_736_035_200_000L + 4 * HOUR + 1_800_000L)));
    assertThat(spec.field("sent").max(), nullValue());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "min: 1736035200000", "min: \"1736035200\"", "max: 2030", "min: yesterday", "min: 1899-12-31",
      "max: \"2263-01-01T00:00:00Z\"", "min: \"0000-01-01T00:00:00Z\"",
      "min: 2030-01-01, max: 2020-01-01", "min: 2020-01-01, default: \"2019-12-31\""})
  void badTimestampBoundsAreRefused(String bounds) {
    SpecException e = refused(HEAD
        + "source_schema:\n"
        + "  user_id: {type: string, required: true}\n"
        + "  ts:      {type: timestamp, required: true}\n"
        + "  seen:    {type: timestamp, " + bounds + "}\n"
        + "features:\n"
        + "  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), containsString("'seen'"));
  }

  @Test
  void aTimestampBoundOutsideTheYearsSaysSo() {
    SpecException e = refused(HEAD + SCHEMA.replace("{type: timestamp, required: true}",
        "{type: timestamp, required: true, min: 1899-12-31}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("'ts'"), containsString("min"),
        containsString("1900-2262"), containsString("1899-12-31")));
  }

  // ---- refusals: features --------------------------------------------------------------------

  @Test
  void unknownAggregation() {
    SpecException e = refused(spec("{name: amount_median, agg: median, field: amount, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("amount_median"), containsString("unknown aggregation"),
        containsString("median")));
  }

  @Test
  void missingAggregation() {
    SpecException e = refused(spec("{name: f_no_agg, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("f_no_agg"), containsString("aggregation")));
  }

  @Test
  void unknownField() {
    SpecException e = refused(spec("{name: total_7d, agg: sum, field: amt, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("total_7d"), containsString("unknown field"),
        containsString("'amt'")));
  }

  @Test
  void duplicateFeatureNames() {
    SpecException e = refused(spec(
        "{name: cnt_7d, agg: count, window: 7d}",
        "{name: other, agg: count, window: 1d}",
        "{name: cnt_7d, agg: count, window: 30d}"));
    assertThat(e.getMessage(), allOf(containsString("cnt_7d"), containsString("duplicate")));
  }

  @Test
  void featureNameClashingWithTheEntity() {
    SpecException e = refused(spec("{name: user_id, agg: count, window: 7d}"));
    assertThat(e.getMessage(), containsString("user_id"));
  }

  @Test
  void windowOnDaysSinceLast() {
    SpecException e = refused(spec("{name: dsl, agg: days_since_last, window: 30d}"));
    assertThat(e.getMessage(), allOf(containsString("dsl"), containsString("takes no window")));
  }

  @Test
  void avgWithoutWindow() {
    SpecException e = refused(spec("{name: avg_amount, agg: avg, field: amount}"));
    assertThat(e.getMessage(), allOf(containsString("avg_amount"), containsString("needs a window")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"exists", "count_distinct"})
  void otherAggregationsThatNeedAWindow(String agg) {
    String field = agg.equals("count_distinct") ? ", field: status" : "";
    SpecException e = refused(spec("{name: unbounded_f, agg: " + agg + field + "}"));
    assertThat(e.getMessage(), allOf(containsString("unbounded_f"), containsString("needs a window")));
  }

  @Test
  void unboundedAggregationsAreAllowed() {
    FeatureSpec spec = SpecParser.parse(spec(
        "{name: c, agg: count}",
        "{name: s, agg: sum, field: amount}",
        "{name: mn, agg: min, field: amount}",
        "{name: mx, agg: max, field: n}",
        "{name: l, agg: last, field: status}",
        "{name: d, agg: days_since_last}"));
    for (FeatureDef f : spec.features()) {
      assertThat(f.name(), f.windowMillis(), nullValue());
    }
    assertThat(spec.presenceWindowMillis(), equalTo(Long.MAX_VALUE));
  }

  @Test
  void countWithAField() {
    SpecException e = refused(spec("{name: cnt_amount, agg: count, field: amount, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("cnt_amount"), containsString("takes no field")));
  }

  @Test
  void sumWithoutAField() {
    SpecException e = refused(spec("{name: total, agg: sum, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("total"), containsString("needs a field")));
  }

  @Test
  void sumOverAStringField() {
    SpecException e = refused(spec("{name: status_sum, agg: sum, field: status, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("status_sum"), containsString("'status'"),
        containsString("string")));
  }

  @Test
  void avgOverABooleanField() {
    SpecException e = refused(spec("{name: flag_avg, agg: avg, field: flag, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("flag_avg"), containsString("'flag'"),
        containsString("boolean")));
  }

  @Test
  void longWhereValuesAndDefaultsAreWholeNumbersAsWritten() {
    for (String value : List.of("5.0", "\"1e3\"", "\"\u0661\u0662\"")) {
      SpecException e = refused(spec("{name: f_long, agg: count, window: 7d, where: {n: " + value + "}}"));
      assertThat(value, e.getMessage(), allOf(containsString("f_long"), containsString("'n'"),
          containsString("long")));
    }
    SpecException e = refused(HEAD + SCHEMA.replace("{type: long}", "{type: long, default: 12.0}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("'n'"), containsString("default '12.0'")));
    FeatureSpec spec = SpecParser.parse(spec("{name: f_long, agg: count, window: 7d, where: {n: [\"+5\", -0]}}"));
    assertThat(spec.features().get(0).where().get("n"), contains((Object) 5L, 0L));
  }

  @Test
  void whereOnAnUnknownField() {
    SpecException e = refused(spec("{name: f_where, agg: count, window: 7d, where: {colour: red}}"));
    assertThat(e.getMessage(), allOf(containsString("f_where"), containsString("'colour'")));
  }

  @Test
  void whereValueThatDoesNotParseAsTheFieldType() {
    SpecException e = refused(spec("{name: f_where, agg: count, window: 7d, where: {amount: lots}}"));
    assertThat(e.getMessage(), allOf(containsString("f_where"), containsString("'lots'"),
        containsString("'amount'"), containsString("double")));

    e = refused(spec("{name: f_long, agg: count, window: 7d, where: {n: [1, 2.5]}}"));
    assertThat(e.getMessage(), allOf(containsString("f_long"), containsString("'2.5'"),
        containsString("'n'"), containsString("long")));

    e = refused(spec("{name: f_ts, agg: count, window: 7d, where: {ts: yesterday}}"));
    assertThat(e.getMessage(), allOf(containsString("f_ts"), containsString("'yesterday'"),
        containsString("timestamp")));
  }

  @Test
  void whereWithAnEmptyList() {
    SpecException e = refused(spec("{name: f_empty, agg: count, window: 7d, where: {status: []}}"));
    assertThat(e.getMessage(), allOf(containsString("f_empty"), containsString("status")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"7x", "0d", "-1d", "7", "d", "1.5d", "7 d", "0h", "7D"})
  void badWindowText(String window) {
    SpecException e = refused(spec("{name: bad_window, agg: count, window: \"" + window + "\"}"));
    assertThat(e.getMessage(), allOf(containsString("bad_window"), containsString("'" + window + "'")));
  }

  @Test
  void windowUnits() {
    FeatureSpec spec = SpecParser.parse(spec(
        "{name: d, agg: count, window: 7d}",
        "{name: h, agg: count, window: 24h}",
        "{name: m, agg: count, window: 90m}"));
    assertThat(spec.features().get(0).windowMillis(), equalTo(604_800_000L));
    assertThat(spec.features().get(1).windowMillis(), equalTo(86_400_000L));
    assertThat(spec.features().get(2).windowMillis(), equalTo(5_400_000L));
    assertThat(spec.presenceWindowMillis(), equalTo(604_800_000L));
  }

  @Test
  void unknownKeyInAFeature() {
    SpecException e = refused(spec("{name: f_key, agg: count, window: 7d, filter: {status: x}}"));
    assertThat(e.getMessage(), allOf(containsString("f_key"), containsString("'filter'")));
  }

  @Test
  void noFeatures() {
    SpecException e = refused(HEAD + SCHEMA + "features: []\n");
    assertThat(e.getMessage(), containsString("features"));
  }

  // ---- refusals: top level and schema ------------------------------------------------------

  @Test
  void entityNotAStringField() {
    SpecException e = refused(spec("{name: f1, agg: count, window: 7d}").replace("entity: user_id", "entity: n"));
    assertThat(e.getMessage(), allOf(containsString("entity"), containsString("'n'"), containsString("string")));
  }

  @Test
  void entityNotAField() {
    SpecException e = refused(spec("{name: f1, agg: count, window: 7d}").replace("entity: user_id", "entity: customer"));
    assertThat(e.getMessage(), allOf(containsString("entity"), containsString("'customer'")));
  }

  @Test
  void timestampNotATimestampField() {
    SpecException e = refused(spec("{name: f1, agg: count, window: 7d}").replace("timestamp: ts", "timestamp: status"));
    assertThat(e.getMessage(), allOf(containsString("timestamp"), containsString("'status'")));
  }

  @Test
  void dedupKeyNotAField() {
    SpecException e = refused(HEAD + "dedup_key: event_id\n" + SCHEMA + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("dedup_key"), containsString("'event_id'")));
  }

  @Test
  void dedupWithinBoundsHowFarApartCopiesCanBe() {
    String base = HEAD + "dedup_key: status\n";
    String features = SCHEMA + "features:\n  - {name: f1, agg: count, window: 7d}\n";
    assertThat(SpecParser.parse(base + "dedup_within: 3d\n" + features).dedupWithinMillis(),
        equalTo(3 * 86_400_000L));
    assertThat(SpecParser.parse(base + "dedup_within: 90m\n" + features).dedupWithinMillis(),
        equalTo(90 * 60_000L));
    assertThat(SpecParser.parse(base + features).dedupWithinMillis(), nullValue());
    SpecException bad = refused(base + "dedup_within: 3 days\n" + features);
    assertThat(bad.getMessage(), allOf(containsString("dedup_within"), containsString("'3 days'")));
    SpecException zero = refused(base + "dedup_within: 0d\n" + features);
    assertThat(zero.getMessage(), containsString("dedup_within"));
    SpecException withoutKey = refused(HEAD + "dedup_within: 1d\n" + features);
    assertThat(withoutKey.getMessage(), containsString("dedup_within needs a dedup_key"));
  }

  @Test
  void badAsOf() {
    SpecException e = refused(HEAD + "as_of: noon\n" + SCHEMA + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("as_of"), containsString("'noon'")));
  }

  @Test
  void badSourceTimezone() {
    SpecException e = refused(HEAD + "source_timezone: Mars/Olympus\n" + SCHEMA
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("source_timezone"), containsString("Mars/Olympus")));
  }

  @Test
  void unknownTopLevelKey() {
    SpecException e = refused("owner: data-team\n" + spec("{name: f1, agg: count, window: 7d}"));
    assertThat(e.getMessage(), allOf(containsString("unknown key"), containsString("'owner'")));
  }

  @Test
  void unknownFieldType() {
    SpecException e = refused(HEAD + SCHEMA.replace("{type: long}", "{type: integer}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("'n'"), containsString("type")));
  }

  @Test
  void unknownKeyInAField() {
    SpecException e = refused(HEAD + SCHEMA.replace("{type: long}", "{type: long, nullable: true}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("'n'"), containsString("'nullable'")));
  }

  @Test
  void boundOnAStringField() {
    SpecException e = refused(HEAD + SCHEMA.replace("status:  {type: string}", "status:  {type: string, min: 1}")
        + "features:\n  - {name: f1, agg: count, window: 7d}\n");
    assertThat(e.getMessage(), allOf(containsString("'status'"), containsString("min")));
  }

  @Test
  void duplicateYamlKey() {
    String yaml = "feature_set: fs\n"
        + "version: 1\n"
        + "entity: user_id\n"
        + "version: 2\n"
        + "timestamp: ts\n"
        + SCHEMA
        + "features:\n  - {name: f1, agg: count, window: 7d}\n";
    SpecException e = refused(yaml);
    assertThat(e.getMessage(), allOf(containsString("line"), containsString("version")));
  }

  @Test
  void duplicateYamlKeyInsideTheSchema() {
    String yaml = HEAD + SCHEMA + "  amount: {type: long}\n" + "features:\n  - {name: f1, agg: count, window: 7d}\n";
    SpecException e = refused(yaml);
    assertThat(e.getMessage(), allOf(containsString("line"), containsString("amount")));
  }

  @Test
  void invalidYaml() {
    String yaml = HEAD + SCHEMA + "features:\n  - {name: f1, agg: count, window: 7d\n  - {name: f2\n";
    SpecException e = refused(yaml);
    assertThat(e.getMessage(), containsString("line"));
  }

  @Test
  void invalidYamlIndentation() {
    String yaml = "feature_set: fs\n  version: 1\n entity: user_id\n";
    SpecException e = refused(yaml);
    assertThat(e.getMessage(), containsString("line"));
  }

  @Test
  void notAMapping() {
    SpecException e = refused("- just\n- a list\n");
    assertThat(e.getMessage(), containsString("mapping"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"User_Features", "user-features", "user features", "USER"})
  void featureSetMustBeLowerCaseSnake(String name) {
    SpecException e = refused(spec("{name: f1, agg: count, window: 7d}")
        .replace("feature_set: fs", "feature_set: \"" + name + "\""));
    assertThat(e.getMessage(), allOf(containsString("feature_set"), containsString("'" + name + "'")));
  }

  @Test
  void missingFeatureSet() {
    SpecException e = refused(spec("{name: f1, agg: count, window: 7d}").replace("feature_set: fs\n", ""));
    assertThat(e.getMessage(), containsString("feature_set"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "1.5", "one"})
  void badVersion(String version) {
    SpecException e = refused(spec("{name: f1, agg: count, window: 7d}").replace("version: 1", "version: " + version));
    assertThat(e.getMessage(), containsString("version"));
  }

  // ---- refusals: quality -------------------------------------------------------------------

  @Test
  void qualityChecksOnTheBaseSpec() {
    FeatureSpec spec = SpecParser.parse(withQuality(
        "{column: amt_7d, between: [0, 100.5]}",
        "{column: as_of_date, not_null: true}",
        "{check: \"cnt_7d >= 0\"}",
        "{check: \"amt_7d!=cnt_7d\"}",
        "{max_row_count_change: 0.5}"));
    List<QualityCheck> q = spec.quality();
    assertThat(q.get(0).hi(), equalTo(100.5));
    assertThat(q.get(0).description(), equalTo("amt_7d between [0, 100.5]"));
    assertThat(q.get(1).column(), equalTo("as_of_date"));
    assertThat(q.get(2).left(), equalTo("cnt_7d"));
    assertThat(q.get(2).op(), equalTo(">="));
    assertThat(q.get(2).right(), equalTo("0"));
    assertThat(q.get(3).op(), equalTo("!="));
    assertThat(q.get(4).limit(), equalTo(0.5));
  }

  @Test
  void qualityCheckOnAnUnknownColumn() {
    SpecException e = refused(withQuality("{column: nope_7d, between: [0, 1]}"));
    assertThat(e.getMessage(), allOf(containsString("quality"), containsString("'nope_7d'")));

    e = refused(withQuality("{column: nope_7d, not_null: true}"));
    assertThat(e.getMessage(), containsString("'nope_7d'"));

    // a source field that is not an output column is unknown too
    e = refused(withQuality("{column: amount, not_null: true}"));
    assertThat(e.getMessage(), containsString("'amount'"));
  }

  @Test
  void compareCheckOnAnUnknownColumn() {
    SpecException e = refused(withQuality("{check: \"cnt_7d <= nope_30d\"}"));
    assertThat(e.getMessage(), allOf(containsString("quality"), containsString("'nope_30d'")));
  }

  @Test
  void compareCheckThatDoesNotParse() {
    SpecException e = refused(withQuality("{check: \"cnt_7d =< amt_7d\"}"));
    assertThat(e.getMessage(), containsString("cnt_7d =< amt_7d"));
  }

  @Test
  void badBetweenAndBadLimit() {
    assertThat(refused(withQuality("{column: amt_7d, between: [0]}")).getMessage(), containsString("between"));
    assertThat(refused(withQuality("{column: amt_7d, between: [5, 1]}")).getMessage(),
        containsString("between [5, 1] has its low bound above its high bound"));
    assertThat(refused(withQuality("{max_row_count_change: -0.1}")).getMessage(),
        containsString("max_row_count_change"));
    assertThat(refused(withQuality("{column: amt_7d}")).getMessage(), containsString("quality check #1"));
  }

  @Test
  void unknownKeyInAQualityCheck() {
    SpecException e = refused(withQuality("{column: amt_7d, between: [0, 1], severity: warn}"));
    assertThat(e.getMessage(), containsString("'severity'"));
  }
}
