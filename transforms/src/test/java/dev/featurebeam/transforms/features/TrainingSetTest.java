package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.BuildFeatures;
import dev.featurebeam.transforms.CleanEvents;
import dev.featurebeam.transforms.Fixtures;
import dev.featurebeam.transforms.ValidateRecords;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link TrainingSet} against a plain scan of each spine row's entity's events ({@link
 * NaiveFeatures#value}), against hand-computed values at the edges of every window, and against
 * the daily partitions at their as-of instants.
 */
@ExtendWith(TestPipelineExtension.class)
class TrainingSetTest {
  static final long DAY = 86_400_000L;
  static final long HOUR = 3_600_000L;
  static final long MINUTE = 60_000L;

  static final String RANDOM_SPEC = String.join("\n",
      "feature_set: pit",
      "version: 1",
      FeatureCorrectnessTest.SCHEMA,
      "features:",
      "  - {name: n_7d, agg: count, window: 7d}",
      "  - {name: buys_7d, agg: count, window: 7d, where: {event_type: [purchase, refund]}}",
      "  - {name: amt_sum_3d, agg: sum, field: amount, window: 3d}",
      "  - {name: amt_avg_36h, agg: avg, field: amount, window: 36h, where: {event_type: purchase}}",
      "  - {name: amt_min_7h, agg: min, field: amount, window: 7h}",
      "  - {name: amt_max_45m, agg: max, field: amount, window: 45m}",
      "  - {name: amt_max, agg: max, field: amount}",
      "  - {name: qty_sum, agg: sum, field: qty}",
      "  - {name: qty_sum_90m, agg: sum, field: qty, window: 90m}",
      "  - {name: cats_2d, agg: count_distinct, field: category, window: 2d}",
      "  - {name: cats_5h, agg: count_distinct, field: category, window: 5h}",
      "  - {name: last_type, agg: last, field: event_type}",
      "  - {name: last_cat_1d, agg: last, field: category, window: 1d}",
      "  - {name: latest_2d, agg: max, field: ts, window: 2d}",
      "  - {name: active_24h, agg: exists, window: 24h}",
      "  - {name: active_10m, agg: exists, window: 10m}",
      "  - {name: n_all, agg: count}",
      "  - {name: dsl, agg: days_since_last}",
      "  - {name: dsl_buy, agg: days_since_last, where: {event_type: purchase}}",
      "");

  static final Schema SPINE = Schema.builder()
      .addStringField("user_id")
      .addDateTimeField("timestamp")
      .addNullableField("label", Schema.FieldType.INT64)
      .build();

  static final long START = Instant.parse("2025-01-01T00:00:00Z").toEpochMilli();
  static final int SPAN_DAYS = 20;

  /**
   * 50,000 events over 200 users, a fifth of them on one hot user, a third on a 30-minute grid
   * (plus or minus a millisecond); 5,000 spine rows, a tenth repeated, at random instants, on
   * midnights, on an event's time and a millisecond after it, before any event and after all.
   */
  @Test
  void everyRowEqualsAPlainScanOfItsEntitysEvents(TestPipeline p) {
    FeatureSpec spec = SpecParser.parse(RANDOM_SPEC);
    SplittableRandom r = new SplittableRandom(42);
    List<Map<String, Object>> events = randomEvents(r, 50_000);
    List<Row> spine = new ArrayList<>();
    for (int k = 0; spine.size() < 5_000; k++) {
      String user = r.nextInt(20) == 0 ? "hot" : r.nextInt(25) == 0 ? "ghost" : "u" + r.nextInt(200);
      long t;
      switch (r.nextInt(6)) {
        case 0:
          t = START + r.nextLong(SPAN_DAYS + 2) * DAY;
          break;
        case 1: {
          long ts = (Long) events.get(r.nextInt(events.size())).get("ts");
          t = ts + (r.nextBoolean() ? 0 : 1);
          break;
        }
        case 2:
          t = START - DAY + r.nextLong(2 * HOUR);
          break;
        default:
          t = START + r.nextLong((SPAN_DAYS + 3) * DAY);
      }
      Row row = spineRow(user, t, r.nextInt(5) == 0 ? null : (long) k);
      spine.add(row);
      if (r.nextInt(10) == 0) {
        spine.add(row);
      }
    }
    Map<String, List<Map<String, Object>>> byUser = new HashMap<>();
    for (Map<String, Object> e : events) {
      byUser.computeIfAbsent((String) e.get("user_id"), u -> new ArrayList<>()).add(e);
    }
    List<String> expected = new ArrayList<>();
    int withEvents = 0;
    for (Row row : spine) {
      List<Map<String, Object>> own = byUser.getOrDefault(row.getString(0), List.of());
      expected.add(oracleLine(spec, row, own));
      long t = ((org.joda.time.ReadableInstant) row.getValue(1)).getMillis();
      withEvents += own.stream().anyMatch(e -> (Long) e.get("ts") < t) ? 1 : 0;
    }
    // The data must exercise the rules: most rows see events, some see none.
    assertThat(withEvents, greaterThan(3_000));
    assertThat(withEvents, org.hamcrest.Matchers.lessThan(spine.size()));

    PCollection<String> lines = trainingSet(p, spec, rows(spec, events), spine);
    PAssert.that(lines).containsInAnyOrder(expected);
    // The DirectRunner's checks encode every element once more at every step: here, where the
    // elements are 50,000 events and their tiles, they would take most of the time.
    DirectOptions direct = p.getOptions().as(DirectOptions.class);
    direct.setEnforceImmutability(false);
    direct.setEnforceEncodability(false);
    p.run().waitUntilFinish();
  }

  /**
   * For each window (minutes, hours, days) and T on and off a UTC midnight: events at T - L - 1
   * ms, T - L, T - 1 ms, T, T + 1 ms and T + 3 days. Exactly the ones at T - L and T - 1 ms count
   * for every windowed aggregation; the whole-history ones (days_since_last among them) add T - L
   * - 1 ms and nothing later.
   */
  @Test
  void anEventBeforeTCountsOneAtOrAfterTNever(TestPipeline p) {
    String[] windows = {"30m", "5h", "2d", "36h"};
    long[] lengths = {30 * MINUTE, 5 * HOUR, 2 * DAY, 36 * HOUR};
    StringBuilder yaml = new StringBuilder(String.join("\n",
        "feature_set: leak", "version: 1", FeatureCorrectnessTest.SCHEMA, "features:", ""));
    String[] aggs = {"count", "sum", "avg", "min", "max", "exists", "count_distinct", "last"};
    for (String w : windows) {
      for (String agg : aggs) {
        String field = agg.equals("count_distinct") || agg.equals("last") ? "category"
            : agg.equals("count") || agg.equals("exists") ? null : "amount";
        yaml.append("  - {name: ").append(agg).append('_').append(w).append(", agg: ")
            .append(agg).append(field == null ? "" : ", field: " + field)
            .append(", window: ").append(w).append("}\n");
      }
    }
    for (String agg : new String[] {"count", "sum", "min", "max", "last", "days_since_last"}) {
      String field = agg.equals("last") ? "category"
          : agg.equals("count") || agg.equals("days_since_last") ? null : "amount";
      yaml.append("  - {name: ").append(agg).append("_all, agg: ").append(agg)
          .append(field == null ? "" : ", field: " + field).append("}\n");
    }
    FeatureSpec spec = SpecParser.parse(yaml.toString());
    long midnight = Instant.parse("2025-01-10T00:00:00Z").toEpochMilli();
    long[] instants = {midnight, Instant.parse("2025-01-10T13:17:05.123Z").toEpochMilli()};
    List<Map<String, Object>> events = new ArrayList<>();
    List<Row> spine = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    int id = 0;
    for (int w = 0; w < windows.length; w++) {
      for (long t : instants) {
        String user = "u_" + windows[w] + "_" + t;
        long l = lengths[w];
        events.add(event("x" + id++, user, t - l - 1, 1000.0, "old"));
        events.add(event("x" + id++, user, t - l, 7.0, "edge"));
        events.add(event("x" + id++, user, t - 1, 5.0, "last"));
        events.add(event("x" + id++, user, t, 100.0, "now"));
        events.add(event("x" + id++, user, t + 1, 200.0, "later"));
        events.add(event("x" + id++, user, t + 3 * DAY, 300.0, "much_later"));
        spine.add(spineRow(user, t, (long) w));
        StringBuilder line = new StringBuilder(user).append(',').append(t).append(',').append(w);
        for (int v = 0; v < windows.length; v++) {
          if (v == w) {
            line.append(",2,12.0,6.0,5.0,7.0,true,2,last");
          } else {
            // Another window of the same user: not this test's subject; the oracle's value.
            line.append(",*");
          }
        }
        line.append(",3,1012.0,5.0,1000.0,last,0");
        expected.add(line.toString());
      }
    }
    // A user whose events are all at or after T: counts 0, exists false, the rest null.
    long t = instants[1];
    events.add(event("x" + id++, "late_only", t, 1.0, "now"));
    events.add(event("x" + id, "late_only", t + HOUR, 2.0, "later"));
    spine.add(spineRow("late_only", t, null));
    StringBuilder none = new StringBuilder("late_only,").append(t).append(',');
    for (int v = 0; v < windows.length; v++) {
      none.append(",0,,,,,false,0,");
    }
    none.append(",0,,,,,");
    expected.add(none.toString());

    PCollection<String> lines = trainingSet(p, spec, rows(spec, events), spine)
        .apply("MaskOtherWindows", MapElements.into(TypeDescriptors.strings())
            .via(line -> mask(line, windows.length, aggs.length)));
    PAssert.that(lines).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
  }

  /** Replaces the feature groups of the windows a leakage row is not about with "*". */
  private static String mask(String line, int windows, int aggs) {
    String[] parts = line.split(",", -1);
    String user = parts[0];
    StringBuilder out = new StringBuilder(parts[0]).append(',').append(parts[1]).append(',')
        .append(parts[2]);
    for (int v = 0; v < windows; v++) {
      boolean own = user.equals("late_only") || user.startsWith("u_" + windowName(v) + "_");
      if (own) {
        for (int a = 0; a < aggs; a++) {
          out.append(',').append(parts[3 + v * aggs + a]);
        }
      } else {
        out.append(",*");
      }
    }
    for (int a = 3 + windows * aggs; a < parts.length; a++) {
      out.append(',').append(parts[a]);
    }
    return out.toString();
  }

  private static String windowName(int v) {
    return new String[] {"30m", "5h", "2d", "36h"}[v];
  }

  /**
   * At the as-of instants of a backfill, for the (entity, date) pairs that have a partition row,
   * the training rows are the partition rows: the oracle's rows, which the feature path is held to
   * in {@link FeatureCorrectnessTest}, and the feature path's own rows in the same pipeline.
   */
  @Test
  void atAsOfInstantsTheRowsAreThePartitionRows(TestPipeline p) {
    FeatureSpec spec = SpecParser.parse(FeatureCorrectnessTest.ALL_AGGS);
    LocalDate from = FeatureCorrectnessTest.FROM;
    LocalDate to = FeatureCorrectnessTest.TO;
    List<Map<String, Object>> events = FeatureCorrectnessTest.randomEvents(23, 150);
    List<String> partitionRows = NaiveFeatures.rows(spec, events, from, to);
    assertThat(partitionRows.size(), greaterThan(25));
    List<Row> spine = new ArrayList<>();
    for (String row : partitionRows) {
      String[] parts = row.split(",", 3);
      long t = spec.asOf().instantOf(LocalDate.parse(parts[1]));
      spine.add(Row.withSchema(Schema.builder().addStringField("user_id")
              .addDateTimeField("timestamp").addStringField("as_of_date").build())
          .addValues(parts[0], new org.joda.time.Instant(t), parts[1]).build());
    }
    PCollection<RawRecord> records = p.apply(Create.of(FeatureCorrectnessTest.records(events))
        .withCoder(RawRecord.RawRecordCoder.of()));
    PCollection<Row> clean = records
        .apply(ValidateRecords.of(spec)).get(ValidateRecords.VALID)
        .apply(CleanEvents.of(spec)).get(CleanEvents.CLEANED);
    PCollection<Row> spineRows = p.apply("Spine", Create.of(spine)
        .withCoder(RowCoder.of(spine.get(0).getSchema())));
    PCollection<String> training = PCollectionTuple.of(TrainingSet.EVENTS, clean)
        .and(TrainingSet.SPINE, spineRows)
        .apply(TrainingSet.of(spec))
        .get(TrainingSet.ROWS)
        // entity, as_of_date, features: drop the spine's timestamp to match the partition's columns
        .apply(MapElements.into(TypeDescriptors.strings()).via(row -> {
          String[] parts = Fixtures.csv(row).split(",", 4);
          return parts[0] + "," + parts[2] + "," + parts[3];
        }));
    PCollection<String> partitions = records
        .apply("Partitions", BuildFeatures.of(spec, AsOfRange.of(from, to)))
        .get(BuildFeatures.FEATURES)
        .apply("PartitionCsv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
    PAssert.that(training).containsInAnyOrder(partitionRows);
    PAssert.that(partitions).containsInAnyOrder(partitionRows);
    p.run().waitUntilFinish();
  }

  @Test
  void aSpineWithoutItsColumnsOrWithAFeaturesNameIsRefused() {
    FeatureSpec spec = SpecParser.parse(RANDOM_SPEC);
    TrainingSet ts = TrainingSet.of(spec);
    IllegalArgumentException noTime = assertThrows(IllegalArgumentException.class,
        () -> ts.outputSchema(Schema.builder().addStringField("user_id").build()));
    assertThat(noTime.getMessage(), containsString("timestamp field timestamp"));
    IllegalArgumentException noEntity = assertThrows(IllegalArgumentException.class,
        () -> ts.withSpineTimestampField("at").outputSchema(
            Schema.builder().addDateTimeField("at").build()));
    assertThat(noEntity.getMessage(), containsString("entity field user_id"));
    IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
        () -> ts.outputSchema(Schema.builder().addStringField("user_id")
            .addDateTimeField("timestamp").addInt64Field("n_7d").build()));
    assertThat(clash.getMessage(), containsString("n_7d"));
    Schema out = ts.outputSchema(SPINE);
    assertThat(out.getFieldCount(), equalTo(3 + spec.features().size()));
    assertThat(out.getField(3).getName(), equalTo("n_7d"));
    assertThat(out.getField("n_7d").getType().getTypeName(), equalTo(Schema.TypeName.INT64));
    assertThat(out.getField("dsl").getType().getTypeName(), equalTo(Schema.TypeName.INT32));
    assertThat(Fixtures.displayData(ts.withSpineTimestampField("at")).get("spineTimestampField"),
        equalTo("at"));
  }

  // --- helpers

  static PCollection<String> trainingSet(
      TestPipeline p, FeatureSpec spec, List<Row> events, List<Row> spine) {
    PCollection<Row> e = p.apply("Events", Create.of(events)
        .withCoder(RowCoder.of(spec.eventSchema())));
    PCollection<Row> s = p.apply("Spine", Create.of(spine).withCoder(RowCoder.of(SPINE)));
    return PCollectionTuple.of(TrainingSet.EVENTS, e).and(TrainingSet.SPINE, s)
        .apply(TrainingSet.of(spec))
        .get(TrainingSet.ROWS)
        .apply("Lines", MapElements.into(TypeDescriptors.strings()).via(TrainingSetTest::line));
  }

  static Row spineRow(String user, long t, Long label) {
    return Row.withSchema(SPINE).addValues(user, new org.joda.time.Instant(t), label).build();
  }

  /** A training row as text: the spine's timestamp as epoch millis, instants as ISO. */
  static String line(Row row) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < row.getFieldCount(); i++) {
      Object v = row.getValue(i);
      if (i == 1) {
        v = ((org.joda.time.ReadableInstant) v).getMillis();
      } else if (v instanceof org.joda.time.ReadableInstant) {
        v = Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis());
      }
      if (i > 0) {
        sb.append(',');
      }
      sb.append(v == null ? "" : v.toString());
    }
    return sb.toString();
  }

  static String oracleLine(FeatureSpec spec, Row spineRow, List<Map<String, Object>> events) {
    long t = ((org.joda.time.ReadableInstant) spineRow.getValue(1)).getMillis();
    Object label = spineRow.getValue(2);
    StringBuilder sb = new StringBuilder(spineRow.getString(0)).append(',').append(t).append(',')
        .append(label == null ? "" : label.toString());
    for (FeatureDef f : spec.features()) {
      Object v = NaiveFeatures.value(spec, f, events, t);
      sb.append(',').append(v == null ? "" : v.toString());
    }
    return sb.toString();
  }

  static Map<String, Object> event(String id, String user, long ts, Double amount, String cat) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("event_id", id);
    e.put("user_id", user);
    e.put("event_type", "purchase");
    e.put("amount", amount);
    e.put("qty", 1L);
    e.put("category", cat);
    e.put("ts", ts);
    return e;
  }

  static List<Map<String, Object>> randomEvents(SplittableRandom r, int n) {
    String[] types = {"purchase", "view", "refund", "view", "cart"};
    String[] cats = {"books", "games", "home", "toys", "food", "garden"};
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long ts;
      if (r.nextInt(3) == 0) {
        ts = START + r.nextLong(SPAN_DAYS * 48L) * 30 * MINUTE + r.nextInt(3) - 1;
      } else {
        ts = START + r.nextLong(SPAN_DAYS * DAY);
      }
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("event_id", "e" + i);
      e.put("user_id", r.nextInt(5) == 0 ? "hot" : "u" + r.nextInt(200));
      e.put("event_type", types[r.nextInt(types.length)]);
      e.put("amount", r.nextInt(6) == 0 ? null : r.nextInt(100_000) / 100.0);
      e.put("qty", r.nextInt(7) == 0 ? null : (long) r.nextInt(1_000));
      e.put("category", r.nextInt(9) == 0 ? null : cats[r.nextInt(cats.length)]);
      e.put("ts", ts);
      out.add(e);
    }
    Collections.shuffle(out, new java.util.Random(r.nextLong()));
    return out;
  }

  /** Events as canonical rows in the spec's event schema. */
  static List<Row> rows(FeatureSpec spec, List<Map<String, Object>> events) {
    Schema schema = spec.eventSchema();
    List<Row> out = new ArrayList<>();
    for (Map<String, Object> e : events) {
      Row.Builder b = Row.withSchema(schema);
      for (Schema.Field f : schema.getFields()) {
        Object v = e.get(f.getName());
        b.addValue(f.getType().getTypeName() == Schema.TypeName.DATETIME && v != null
            ? new org.joda.time.Instant((Long) v) : v);
      }
      out.add(b.build());
    }
    return out;
  }
}
