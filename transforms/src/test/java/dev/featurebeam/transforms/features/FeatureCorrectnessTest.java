package dev.featurebeam.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.BuildFeatures;
import dev.featurebeam.transforms.CleanEvents;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.DeduplicateEvents;
import dev.featurebeam.transforms.Fixtures;
import dev.featurebeam.transforms.ValidateRecords;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tiled features against {@link NaiveFeatures}, an oracle that scans every event for every
 * as-of date: random events on a 30-minute grid (so many fall exactly on window edges), every
 * aggregation, whole-day, sub-day and unbounded windows, both as-of modes; then the same events as
 * a stream (TestStream) and as single-date runs, which must give exactly the backfill's rows.
 */
@ExtendWith(TestPipelineExtension.class)
class FeatureCorrectnessTest {
  static final String SCHEMA = String.join("\n",
      "entity: user_id",
      "timestamp: ts",
      "dedup_key: event_id",
      "source_schema:",
      "  event_id: {type: string, required: true}",
      "  user_id: {type: string, required: true}",
      "  event_type: {type: string}",
      "  amount: {type: double, min: 0}",
      "  qty: {type: long}",
      "  category: {type: string}",
      "  ts: {type: timestamp, required: true}",
      "");

  static final String ALL_AGGS = String.join("\n",
      "feature_set: all_aggs",
      "version: 1",
      SCHEMA,
      "features:",
      "  - {name: n_7d, agg: count, window: 7d}",
      "  - {name: buys_7d, agg: count, window: 7d, where: {event_type: [purchase, refund]}}",
      "  - {name: amt_sum_7d, agg: sum, field: amount, window: 7d}",
      "  - {name: amt_avg_3d, agg: avg, field: amount, window: 3d, where: {event_type: purchase}}",
      "  - {name: amt_min_30d, agg: min, field: amount, window: 30d}",
      "  - {name: amt_max, agg: max, field: amount}",
      "  - {name: qty_sum, agg: sum, field: qty}",
      "  - {name: cats_7d, agg: count_distinct, field: category, window: 7d}",
      "  - {name: last_type, agg: last, field: event_type}",
      "  - {name: latest_2d, agg: max, field: ts, window: 2d}",
      "  - {name: active_24h, agg: exists, window: 24h}",
      "  - {name: n_36h, agg: count, window: 36h}",
      "  - {name: n_90m, agg: count, window: 90m}",
      "  - {name: dsl, agg: days_since_last}",
      "  - {name: dsl_buy, agg: days_since_last, where: {event_type: purchase}}",
      "");

  static final String SUB_DAY_START_OF_DAY = String.join("\n",
      "feature_set: sub_day",
      "version: 1",
      "as_of: start_of_day",
      SCHEMA,
      "features:",
      "  - {name: n_36h, agg: count, window: 36h}",
      "  - {name: amt_90m, agg: sum, field: amount, window: 90m}",
      "  - {name: last_cat, agg: last, field: category}",
      "");

  static final String HISTORY_ONLY = String.join("\n",
      "feature_set: history",
      "version: 1",
      SCHEMA,
      "features:",
      "  - {name: n, agg: count}",
      "  - {name: dsl, agg: days_since_last}",
      "");

  static final LocalDate FROM = LocalDate.parse("2025-01-05");
  static final LocalDate TO = LocalDate.parse("2025-01-22");

  @Test
  void everyAggregationMatchesTheOracle(TestPipeline p) {
    assertMatchesOracle(p, SpecParser.parse(ALL_AGGS), 7);
  }

  @Test
  void subDayWindowsAndStartOfDayMatchTheOracle(TestPipeline p) {
    assertMatchesOracle(p, SpecParser.parse(SUB_DAY_START_OF_DAY), 11);
  }

  @Test
  void wholeHistoryFeaturesMatchTheOracle(TestPipeline p) {
    assertMatchesOracle(p, SpecParser.parse(HISTORY_ONLY), 13);
  }

  private static void assertMatchesOracle(TestPipeline p, FeatureSpec spec, long seed) {
    List<Map<String, Object>> events = randomEvents(seed, 90);
    PCollection<String> rows =
        p.apply(Create.of(records(events)).withCoder(RawRecord.RawRecordCoder.of()))
            .apply(BuildFeatures.of(spec, AsOfRange.of(FROM, TO)))
            .get(BuildFeatures.FEATURES)
            .apply(MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
    List<String> expected = NaiveFeatures.rows(spec, events, FROM, TO);
    // 3 users over 18 dates: the oracle must see most (entity, date) pairs, not an empty set.
    assertThat(expected.size(), greaterThan(25));
    PAssert.that(rows).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
  }

  /**
   * Bounded tiling emits its open tiles whenever it holds too many: with room for one or three
   * tiles, a day of an entity is split over several tiles, which the roll must merge exactly.
   */
  @Test
  void tilesEmittedInSmallBatchesGiveTheOracleRows(TestPipeline p) {
    FeatureSpec spec = SpecParser.parse(ALL_AGGS);
    List<Map<String, Object>> events = randomEvents(5, 90);
    PCollection<Row> clean =
        p.apply(Create.of(records(events)).withCoder(RawRecord.RawRecordCoder.of()))
            .apply(ValidateRecords.of(spec))
            .get(ValidateRecords.VALID)
            .apply(CleanEvents.of(spec))
            .get(CleanEvents.CLEANED);
    List<String> expected = NaiveFeatures.rows(spec, events, FROM, TO);
    for (int maxOpenTiles : new int[] {1, 3}) {
      PCollection<String> rows =
          clean
              .apply("Tiles" + maxOpenTiles, TileInBundles.of(spec).withMaxOpenTiles(maxOpenTiles))
              .apply("Roll" + maxOpenTiles, RollTiles.of(spec, AsOfRange.of(FROM, TO))
                  .withMethod(ComputeFeatures.Method.GROUP_BY_ENTITY))
              .get(ComputeFeatures.FEATURES)
              .apply("Csv" + maxOpenTiles,
                  MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
      PAssert.that(rows).containsInAnyOrder(expected);
    }
    p.run().waitUntilFinish();
  }

  /**
   * The state-and-timers implementations of de-duplication and of the features, which a stream
   * takes, on bounded input beside the grouped ones AUTO picks for it: both give the oracle's rows,
   * and count the same tiles and rows.
   */
  @Test
  void stateAndTimersOnBoundedInputGiveTheGroupedRowsAndCounts(TestPipeline p) {
    FeatureSpec spec = SpecParser.parse(ALL_AGGS);
    List<Map<String, Object>> events = randomEvents(17, 120);
    PCollection<RawRecord> input =
        p.apply(Create.of(records(events)).withCoder(RawRecord.RawRecordCoder.of()));
    List<String> expected = NaiveFeatures.rows(spec, events, FROM, TO);
    BuildFeatures grouped = BuildFeatures.of(spec, AsOfRange.of(FROM, TO))
        .withDeduplicationMethod(DeduplicateEvents.Method.GROUP_REPEATED_KEYS)
        .withFeaturesMethod(ComputeFeatures.Method.GROUP_BY_ENTITY);
    BuildFeatures stateful = BuildFeatures.of(spec, AsOfRange.of(FROM, TO))
        .withDeduplicationMethod(DeduplicateEvents.Method.STATE_AND_TIMERS)
        .withFeaturesMethod(ComputeFeatures.Method.STATE_AND_TIMERS);
    for (Map.Entry<String, BuildFeatures> method : Map.of("Grouped", grouped, "Stateful", stateful)
        .entrySet()) {
      PCollection<String> rows = input
          .apply(method.getKey(), method.getValue())
          .get(BuildFeatures.FEATURES)
          .apply(method.getKey() + "Csv",
              MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
      PAssert.that(rows).containsInAnyOrder(expected);
    }
    List<String> steps = Fixtures.stepNames(p);
    for (String step : new String[] {"Grouped/Deduplicate/DedupByGrouping",
        "Grouped/Features/TileInBundles", "Grouped/Features/Roll/GroupByEntity",
        "Stateful/Deduplicate/DedupByState", "Stateful/Features/Tile"}) {
      assertThat(steps, org.hamcrest.Matchers.hasItem(step));
    }
    assertThat(steps, org.hamcrest.Matchers.not(
        org.hamcrest.Matchers.hasItem("Stateful/Features/Roll/GroupByEntity")));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    for (String name : new String[] {Counters.TILES, Counters.FEATURE_ROWS, Counters.VALID}) {
      long inGrouped = Fixtures.counterUnder(result, "Grouped", Counters.NAMESPACE, name);
      assertThat(name, Fixtures.counterUnder(result, "Stateful", Counters.NAMESPACE, name),
          equalTo(inGrouped));
      assertThat(name, inGrouped, greaterThan(0L));
    }
    assertThat(Fixtures.counterUnder(result, "Grouped", Counters.NAMESPACE, Counters.FEATURE_ROWS),
        equalTo((long) expected.size()));
    assertThat(Fixtures.counterUnder(result, "Stateful", Counters.NAMESPACE, Counters.LATE_TILES),
        equalTo(0L));
  }

  @Test
  void theGroupedFeaturesNeedABoundedInput(TestPipeline p) {
    FeatureSpec spec = SpecParser.parse(ALL_AGGS);
    TestStream<Row> stream = TestStream.create(
        org.apache.beam.sdk.coders.RowCoder.of(spec.eventSchema())).advanceWatermarkToInfinity();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(stream).apply(ComputeFeatures.of(spec, AsOfRange.of(FROM, TO))
            .withMethod(ComputeFeatures.Method.GROUP_BY_ENTITY)));
    assertThat(e.getMessage(), org.hamcrest.Matchers.containsString("needs a bounded input"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  void displayDataNamesTheRangeAndTheMethods() {
    FeatureSpec spec = SpecParser.parse(ALL_AGGS);
    Map<String, String> data = Fixtures.displayData(BuildFeatures.of(spec, AsOfRange.of(FROM, TO))
        .withFeaturesMethod(ComputeFeatures.Method.STATE_AND_TIMERS));
    assertThat(data.get("featureSet"), equalTo("all_aggs v1"));
    assertThat(data.get("range"), equalTo("2025-01-05..2025-01-22"));
    assertThat(data.get("deduplicationMethod"), equalTo("AUTO"));
    assertThat(data.get("featuresMethod"), equalTo("STATE_AND_TIMERS"));
    Map<String, String> features = Fixtures.displayData(ComputeFeatures.of(spec,
        AsOfRange.openEnded(FROM)));
    assertThat(features.get("range"), equalTo("2025-01-05.."));
    assertThat(features.get("features"), equalTo("15"));
    assertThat(features.get("method"), equalTo("AUTO"));
  }

  /** The same events as an unbounded stream, watermark advancing day by day: same rows. */
  @Test
  void aStreamGivesExactlyTheBatchRows(TestPipeline p) {
    // A stream needs a finite horizon; ten years over 90 days of events is the unbounded rule.
    FeatureSpec spec = SpecParser.parse(
        ALL_AGGS.replace("dedup_key: event_id\n", "dedup_key: event_id\ndedup_within: 3650d\n"));
    assertThat(spec.dedupWithinMillis(), equalTo(3650L * FeaturePlan.DAY));
    List<Map<String, Object>> events = randomEvents(7, 90);
    events.sort(Comparator.comparingLong(e -> (Long) e.get("ts")));
    TestStream.Builder<RawRecord> stream = TestStream.create(RawRecord.RawRecordCoder.of());
    long dayEnd = Long.MIN_VALUE;
    for (Map<String, Object> e : events) {
      long ts = (Long) e.get("ts");
      long end = Math.floorDiv(ts, FeaturePlan.DAY) * FeaturePlan.DAY + FeaturePlan.DAY;
      if (end != dayEnd && dayEnd != Long.MIN_VALUE) {
        // Close the previous day: its tiles and the as-of instant at its end can fire.
        stream = stream.advanceWatermarkTo(new org.joda.time.Instant(dayEnd));
      }
      dayEnd = end;
      stream = stream.addElements(TimestampedValue.of(record(e), new org.joda.time.Instant(ts)));
    }
    PCollection<String> rows =
        p.apply(stream.advanceWatermarkToInfinity())
            .apply(BuildFeatures.of(spec, AsOfRange.of(FROM, TO)))
            .get(BuildFeatures.FEATURES)
            .apply(MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
    PAssert.that(rows).containsInAnyOrder(NaiveFeatures.rows(spec, events, FROM, TO));
    p.run().waitUntilFinish();
  }

  /** A backfill of N dates equals N single-date runs, row for row. */
  @Test
  void backfillEqualsSingleDateRuns(TestPipeline p) {
    FeatureSpec spec = SpecParser.parse(ALL_AGGS);
    List<Map<String, Object>> events = randomEvents(21, 90);
    PCollection<RawRecord> input =
        p.apply(Create.of(records(events)).withCoder(RawRecord.RawRecordCoder.of()));
    LocalDate from = LocalDate.parse("2025-01-08");
    LocalDate to = LocalDate.parse("2025-01-14");
    PCollection<String> backfill = features(input, spec, AsOfRange.of(from, to), "Backfill");
    PCollectionList<String> singles = PCollectionList.empty(p);
    for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
      singles = singles.and(features(input, spec, AsOfRange.single(d), "Single" + d));
    }
    List<String> expected = NaiveFeatures.rows(spec, events, from, to);
    PAssert.that(backfill).containsInAnyOrder(expected);
    PAssert.that(singles.apply(Flatten.pCollections())).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
  }

  private static PCollection<String> features(
      PCollection<RawRecord> input, FeatureSpec spec, AsOfRange range, String name) {
    return input
        .apply(name, BuildFeatures.of(spec, range))
        .get(BuildFeatures.FEATURES)
        .apply(name + "Csv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
  }

  /**
   * Random events from 2024-12-20 to 2025-01-25 on a 30-minute grid, a few nudged by a
   * millisecond either side; some share a timestamp (for last's tie-break) and some lack amount.
   */
  static List<Map<String, Object>> randomEvents(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    long start = Instant.parse("2024-12-20T00:00:00Z").toEpochMilli();
    String[] types = {"purchase", "view", "refund", "view", "cart"};
    String[] cats = {"books", "games", "home", "toys"};
    List<Map<String, Object>> out = new ArrayList<>();
    long previousTs = start;
    for (int i = 0; i < n; i++) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("event_id", String.format("e%04d", r.nextInt(10_000) * 1000 + i));
      e.put("user_id", "u" + r.nextInt(3));
      e.put("event_type", types[r.nextInt(types.length)]);
      e.put("amount", r.nextInt(5) == 0 ? null : r.nextInt(100_000) / 100.0);
      e.put("qty", (long) r.nextInt(10));
      e.put("category", cats[r.nextInt(cats.length)]);
      long ts = start + r.nextLong(36L * 48) * 1_800_000L;
      int nudge = r.nextInt(10);
      ts += nudge == 0 ? -1 : nudge == 1 ? 1 : 0;
      if (r.nextInt(8) == 0) {
        ts = previousTs;
      }
      previousTs = ts;
      e.put("ts", ts);
      out.add(e);
    }
    return out;
  }

  static List<RawRecord> records(List<Map<String, Object>> events) {
    List<RawRecord> out = new ArrayList<>();
    for (Map<String, Object> e : events) {
      out.add(record(e));
    }
    return out;
  }

  static RawRecord record(Map<String, Object> e) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (Map.Entry<String, Object> f : e.entrySet()) {
      Object v = f.getValue();
      fields.put(f.getKey(), v == null ? "" : f.getKey().equals("ts")
          ? Instant.ofEpochMilli((Long) v).toString() : v.toString());
    }
    return RawRecord.of("test", fields.toString(), fields);
  }

}
