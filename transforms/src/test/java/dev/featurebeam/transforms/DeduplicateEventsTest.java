package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.Fixtures.counter;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.sameInstance;
import static org.hamcrest.Matchers.hasEntry;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class DeduplicateEventsTest {
  /** 2025-01-05T00:00:00Z */
  static final long JAN5 = 1_736_035_200_000L;
  static final long HOUR = 3_600_000L;

  static final String SCHEMA =
      "source_schema:\n"
          + "  event_id: {type: string}\n"
          + "  user_id:  {type: string, required: true}\n"
          + "  amount:   {type: double}\n"
          + "  ts:       {type: timestamp, required: true}\n"
          + "features:\n"
          + "  - {name: c, agg: count, window: 7d}\n";

  static final FeatureSpec SPEC = SpecParser.parse(
      "feature_set: d\nversion: 1\nentity: user_id\ntimestamp: ts\ndedup_key: event_id\n" + SCHEMA);

  static final FeatureSpec NO_KEY = SpecParser.parse(
      "feature_set: d\nversion: 1\nentity: user_id\ntimestamp: ts\n" + SCHEMA);

  static final Schema S = SPEC.eventSchema();

  static TimestampedValue<Row> ev(String id, String user, Double amount, long ts) {
    return TimestampedValue.of(Row.withSchema(S).addValues(id, user, amount, new Instant(ts)).build(),
        new Instant(ts));
  }

  /**
   * e1: three exact copies. e2: a later and an earlier version, the earlier twice. e3: two versions
   * at the same instant. e4: alone.
   */
  static List<TimestampedValue<Row>> input() {
    return List.of(
        ev("e1", "u1", 1.0, JAN5 + 10 * HOUR),
        ev("e1", "u1", 1.0, JAN5 + 10 * HOUR),
        ev("e1", "u1", 1.0, JAN5 + 10 * HOUR),
        ev("e2", "u1", 5.0, JAN5 + 12 * HOUR),
        ev("e2", "u1", 9.0, JAN5 + 11 * HOUR),
        ev("e2", "u1", 9.0, JAN5 + 11 * HOUR),
        ev("e3", "u2", 2.0, JAN5 + 8 * HOUR),
        ev("e3", "u2", 10.0, JAN5 + 8 * HOUR),
        ev("e4", "u3", null, JAN5));
  }

  /** e3's two versions serialize as ...,"amount":10.0,... and ...,"amount":2.0,...; "1" < "2". */
  static final List<String> EXPECTED = List.of(
      "e1,u1,1.0,2025-01-05T10:00:00Z",
      "e2,u1,9.0,2025-01-05T11:00:00Z",
      "e3,u2,10.0,2025-01-05T08:00:00Z",
      "e4,u3,,2025-01-05T00:00:00Z");

  static PCollection<String> dedup(TestPipeline p, String name, FeatureSpec spec, List<TimestampedValue<Row>> in) {
    return p.apply("Create" + name, Create.timestamped(in).withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)))
        .apply("Dedup" + name, DeduplicateEvents.of(spec))
        .apply("Csv" + name, MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
  }

  @Test
  void theCanonicalSerializationOrdersTheTie() {
    Row ten = ev("e3", "u2", 10.0, JAN5 + 8 * HOUR).getValue();
    Row two = ev("e3", "u2", 2.0, JAN5 + 8 * HOUR).getValue();
    assertThat(EventRows.canonical(ten),
        equalTo("{\"event_id\":\"e3\",\"user_id\":\"u2\",\"amount\":10.0,\"ts\":\"2025-01-05T08:00:00Z\"}"));
    assertThat(EventRows.canonical(ten).compareTo(EventRows.canonical(two)), lessThan(0));
  }

  @Test
  void keepsOnePerKeyAndCountsDuplicates(TestPipeline p) {
    PCollection<String> out = dedup(p, "", SPEC, input());
    PAssert.that(out).containsInAnyOrder(EXPECTED);
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // e1: 2 exact copies; e2: 1 exact copy of 9.0 and 1 conflicting (5.0); e3: 1 conflicting
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(3L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING), equalTo(2L));
  }

  /**
   * The bounded path's grouping stamps its output with the end of the global window; each kept
   * copy gets its own event time back, as on the stream's path below.
   */
  @Test
  void aBatchKeepsEachCopysEventTime(TestPipeline p) {
    PCollection<Row> kept = p.apply(Create.timestamped(input())
            .withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)))
        .apply(DeduplicateEvents.of(SPEC));
    PAssert.that(kept.apply("Stamps", ParDo.of(new IdAtTimestamp())))
        .containsInAnyOrder("e1@" + (JAN5 + 10 * HOUR), "e2@" + (JAN5 + 11 * HOUR),
            "e3@" + (JAN5 + 8 * HOUR), "e4@" + JAN5);
    p.run().waitUntilFinish();
  }

  /**
   * The stream's path (per-key state and timers) on the same copies, in shuffled order, all before
   * the watermark passes them: the same choice and the same counts as the bounded path. The output
   * keeps each kept copy's event time, which the daily tile windows downstream rely on.
   */
  @Test
  void aStreamKeepsTheSameCopiesAndCountsAsABatch(TestPipeline p) {
    List<TimestampedValue<Row>> shuffled = new ArrayList<>(input());
    Collections.shuffle(shuffled, new java.util.Random(3));
    org.apache.beam.sdk.testing.TestStream.Builder<Row> stream =
        org.apache.beam.sdk.testing.TestStream.create(org.apache.beam.sdk.coders.RowCoder.of(S));
    for (TimestampedValue<Row> e : shuffled) {
      stream = stream.addElements(e);
    }
    // A stream needs a horizon; a day covers every copy here, so the choice is the batch's.
    PCollection<Row> kept = p.apply(stream.advanceWatermarkToInfinity())
        .apply(DeduplicateEvents.of(within("1d")));
    PAssert.that(kept.apply("Csv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
        .containsInAnyOrder(EXPECTED);
    PAssert.that(kept.apply("Stamps", ParDo.of(new IdAtTimestamp())))
        .containsInAnyOrder("e1@" + (JAN5 + 10 * HOUR), "e2@" + (JAN5 + 11 * HOUR),
            "e3@" + (JAN5 + 8 * HOUR), "e4@" + JAN5);
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(3L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING), equalTo(2L));
  }

  /** "event_id@element timestamp". */
  static class IdAtTimestamp extends org.apache.beam.sdk.transforms.DoFn<Row, String> {
    @ProcessElement
    public void process(@Element Row r, @Timestamp Instant t, OutputReceiver<String> out) {
      out.output(r.getString("event_id") + "@" + t.getMillis());
    }
  }

  @Test
  void theChoiceDoesNotDependOnInputOrder(TestPipeline p) {
    List<TimestampedValue<Row>> reversed = new ArrayList<>(input());
    Collections.reverse(reversed);
    List<TimestampedValue<Row>> rotated = new ArrayList<>(input());
    Collections.rotate(rotated, 4);
    List<TimestampedValue<Row>> shuffled = new ArrayList<>(input());
    Collections.shuffle(shuffled, new java.util.Random(7));
    PAssert.that(dedup(p, "AsGiven", SPEC, input())).containsInAnyOrder(EXPECTED);
    PAssert.that(dedup(p, "Reversed", SPEC, reversed)).containsInAnyOrder(EXPECTED);
    PAssert.that(dedup(p, "Rotated", SPEC, rotated)).containsInAnyOrder(EXPECTED);
    PAssert.that(dedup(p, "Shuffled", SPEC, shuffled)).containsInAnyOrder(EXPECTED);
    p.run().waitUntilFinish();
  }

  @Test
  void theKeptEventKeepsItsEventTime(TestPipeline p) {
    PCollection<Row> out = p.apply(Create.timestamped(input()).withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)))
        .apply(DeduplicateEvents.of(SPEC));
    PAssert.that(out.apply(ParDo.of(new ValidateRecordsTest.StampFn()))).containsInAnyOrder(
        "e1@" + (JAN5 + 10 * HOUR), "e2@" + (JAN5 + 11 * HOUR), "e3@" + (JAN5 + 8 * HOUR), "e4@" + JAN5);
    p.run().waitUntilFinish();
  }

  @Test
  void eventsWithoutADedupKeyValueAreNotDuplicatesOfEachOther(TestPipeline p) {
    List<TimestampedValue<Row>> in = List.of(
        ev(null, "u1", 1.0, JAN5),
        ev(null, "u2", 2.0, JAN5 + HOUR),
        ev("e1", "u3", 3.0, JAN5),
        ev("e1", "u3", 3.0, JAN5));
    PAssert.that(dedup(p, "", SPEC, in)).containsInAnyOrder(
        ",u1,1.0,2025-01-05T00:00:00Z", ",u2,2.0,2025-01-05T01:00:00Z", "e1,u3,3.0,2025-01-05T00:00:00Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(1L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING), equalTo(0L));
  }

  /**
   * {@code n} events over {@code ids} ids: most ids once, others copied exactly or with another
   * amount or time, the copies spread through the input.
   */
  static List<TimestampedValue<Row>> manyEvents(int n, int ids) {
    java.util.Random random = new java.util.Random(5);
    List<TimestampedValue<Row>> in = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = "e" + random.nextInt(ids);
      double amount = random.nextInt(3);
      long ts = JAN5 + random.nextInt(4) * HOUR;
      String user = "u" + random.nextInt(50);
      in.add(ev(id, user, amount, ts));
      if (random.nextInt(10) == 0) {
        in.add(in.size() / 2, ev(id, user, amount, ts));
      }
    }
    return in;
  }

  /** The rule computed plainly over all events: the kept rows as CSV, then exact and conflicting. */
  static Map.Entry<List<String>, long[]> plainRule(List<TimestampedValue<Row>> in) {
    java.util.Map<String, List<Row>> byId = new java.util.TreeMap<>();
    for (TimestampedValue<Row> e : in) {
      byId.computeIfAbsent(e.getValue().getString("event_id"), k -> new ArrayList<>())
          .add(e.getValue());
    }
    List<String> expected = new ArrayList<>();
    long exact = 0;
    long conflicting = 0;
    for (List<Row> copies : byId.values()) {
      Row best = copies.get(0);
      java.util.Set<String> distinct = new java.util.HashSet<>();
      for (Row r : copies) {
        distinct.add(EventRows.canonical(r));
        long ts = r.getDateTime("ts").getMillis();
        long bestTs = best.getDateTime("ts").getMillis();
        if (ts < bestTs
            || (ts == bestTs && EventRows.canonical(r).compareTo(EventRows.canonical(best)) < 0)) {
          best = r;
        }
      }
      expected.add(Fixtures.csv(best));
      exact += copies.size() - distinct.size();
      conflicting += distinct.size() - 1;
    }
    return Map.entry(expected, new long[] {exact, conflicting});
  }

  /**
   * 2,000 events over 1,500 ids. Only repeated ids are grouped; the rows and both counts must
   * equal the plain rule's.
   */
  @Test
  void manyEventsKeepWhatThePlainRuleKeeps(TestPipeline p) {
    List<TimestampedValue<Row>> in = manyEvents(2_000, 1_500);
    Map.Entry<List<String>, long[]> plain = plainRule(in);
    long exact = plain.getValue()[0];
    long conflicting = plain.getValue()[1];
    PAssert.that(dedup(p, "", SPEC, in)).containsInAnyOrder(plain.getKey());
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(exact));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING),
        equalTo(conflicting));
    assertThat("exact " + exact + ", conflicting " + conflicting,
        exact > 100 && conflicting > 300, org.hamcrest.Matchers.is(true));
  }

  /**
   * The state-and-timers implementation, which a stream takes, on bounded input: the same copies,
   * at the same event times, and the same counts as the grouping that AUTO picks for it.
   */
  @Test
  void stateAndTimersOnABoundedInputKeepWhatTheGroupingKeeps(TestPipeline p) {
    PCollection<Row> events =
        p.apply(Create.timestamped(input()).withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)));
    assertThat(events.isBounded(), equalTo(PCollection.IsBounded.BOUNDED));
    PCollection<Row> kept = events.apply("Dedup",
        DeduplicateEvents.of(SPEC).withMethod(DeduplicateEvents.Method.STATE_AND_TIMERS));
    PAssert.that(kept.apply("Csv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
        .containsInAnyOrder(EXPECTED);
    PAssert.that(kept.apply("Stamps", ParDo.of(new IdAtTimestamp())))
        .containsInAnyOrder("e1@" + (JAN5 + 10 * HOUR), "e2@" + (JAN5 + 11 * HOUR),
            "e3@" + (JAN5 + 8 * HOUR), "e4@" + JAN5);
    List<String> steps = Fixtures.stepNames(p);
    assertThat(steps, org.hamcrest.Matchers.hasItem("Dedup/DedupByState"));
    assertThat(steps, org.hamcrest.Matchers.not(
        org.hamcrest.Matchers.hasItem("Dedup/DedupByGrouping")));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(3L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING), equalTo(2L));
  }

  /**
   * Both methods side by side on 500 events over 300 ids (fewer than above: the DirectRunner
   * fires each key's timers on its own): each keeps the plain rule's rows.
   */
  @Test
  void bothMethodsKeepThePlainRulesRowsOfManyEvents(TestPipeline p) {
    List<TimestampedValue<Row>> in = manyEvents(500, 300);
    Map.Entry<List<String>, long[]> plain = plainRule(in);
    assertThat(plain.getValue()[0] > 5 && plain.getValue()[1] > 20, org.hamcrest.Matchers.is(true));
    PCollection<Row> events =
        p.apply(Create.timestamped(in).withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)));
    for (DeduplicateEvents.Method method : new DeduplicateEvents.Method[] {
        DeduplicateEvents.Method.GROUP_REPEATED_KEYS, DeduplicateEvents.Method.STATE_AND_TIMERS}) {
      PCollection<String> kept = events
          .apply("Dedup" + method, DeduplicateEvents.of(SPEC).withMethod(method))
          .apply("Csv" + method, MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv));
      PAssert.that(kept).containsInAnyOrder(plain.getKey());
    }
    List<String> steps = Fixtures.stepNames(p);
    assertThat(steps, org.hamcrest.Matchers.hasItem("DedupGROUP_REPEATED_KEYS/DedupByGrouping"));
    assertThat(steps, org.hamcrest.Matchers.hasItem("DedupSTATE_AND_TIMERS/DedupByState"));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // Both methods counted into the same counters: twice the plain rule's counts.
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT),
        equalTo(2 * plain.getValue()[0]));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING),
        equalTo(2 * plain.getValue()[1]));
  }

  @Test
  void theGroupingNeedsABoundedInput(TestPipeline p) {
    org.apache.beam.sdk.testing.TestStream<Row> stream =
        org.apache.beam.sdk.testing.TestStream.create(org.apache.beam.sdk.coders.RowCoder.of(S))
            .advanceWatermarkToInfinity();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(stream).apply(
            DeduplicateEvents.of(SPEC).withMethod(DeduplicateEvents.Method.GROUP_REPEATED_KEYS)));
    assertThat(e.getMessage(), org.hamcrest.Matchers.containsString("needs a bounded input"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  void displayDataNamesTheKeyAndTheMethod() {
    Map<String, String> data = Fixtures.displayData(
        DeduplicateEvents.of(SPEC).withMethod(DeduplicateEvents.Method.STATE_AND_TIMERS));
    assertThat(data, hasEntry("featureSet", "d v1"));
    assertThat(data, hasEntry("dedupKey", "event_id"));
    assertThat(data, hasEntry("method", "STATE_AND_TIMERS"));
    assertThat(Fixtures.displayData(DeduplicateEvents.of(SPEC)), hasEntry("method", "AUTO"));
  }

  @Test
  void aSpecWithoutDedupKeyKeepsEverything(TestPipeline p) {
    PCollection<Row> in = p.apply(Create.timestamped(input()).withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)));
    PCollection<Row> out = in.apply(DeduplicateEvents.of(NO_KEY));
    assertThat(out, sameInstance(in));
    PAssert.that(out.apply(MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv))).containsInAnyOrder(
        "e1,u1,1.0,2025-01-05T10:00:00Z",
        "e1,u1,1.0,2025-01-05T10:00:00Z",
        "e1,u1,1.0,2025-01-05T10:00:00Z",
        "e2,u1,5.0,2025-01-05T12:00:00Z",
        "e2,u1,9.0,2025-01-05T11:00:00Z",
        "e2,u1,9.0,2025-01-05T11:00:00Z",
        "e3,u2,2.0,2025-01-05T08:00:00Z",
        "e3,u2,10.0,2025-01-05T08:00:00Z",
        "e4,u3,,2025-01-05T00:00:00Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(0L));
  }

  static final long DAY = 24 * HOUR;

  static FeatureSpec within(String w) {
    return SpecParser.parse("feature_set: d\nversion: 1\nentity: user_id\ntimestamp: ts\n"
        + "dedup_key: event_id\ndedup_within: " + w + "\n" + SCHEMA);
  }

  /**
   * The de-duplication rule of docs/reference.md, read literally: a copy is dropped when another copy of its key is earlier by
   * no more than {@code within} (null: unbounded), or at the same time with a smaller
   * serialization; of identical copies one stands. The kept rows as CSV, then exact, conflicting.
   */
  static Map.Entry<List<String>, long[]> literalRule(List<TimestampedValue<Row>> in, Long within) {
    java.util.Map<String, List<Row>> byId = new java.util.TreeMap<>();
    for (TimestampedValue<Row> e : in) {
      byId.computeIfAbsent(e.getValue().getString("event_id"), k -> new ArrayList<>())
          .add(e.getValue());
    }
    List<String> kept = new ArrayList<>();
    long exact = 0;
    long conflicting = 0;
    for (List<Row> copies : byId.values()) {
      java.util.Set<String> distinct = new java.util.HashSet<>();
      java.util.Set<String> keptHere = new java.util.HashSet<>();
      for (Row c : copies) {
        String ser = EventRows.canonical(c);
        distinct.add(ser);
        long ts = c.getDateTime("ts").getMillis();
        boolean dropped = false;
        for (Row o : copies) {
          long ots = o.getDateTime("ts").getMillis();
          String oser = EventRows.canonical(o);
          if ((ots < ts && (within == null || ts - ots <= within))
              || (ots == ts && oser.compareTo(ser) < 0)) {
            dropped = true;
          }
        }
        if (!dropped && keptHere.add(ser)) {
          kept.add(Fixtures.csv(c));
        }
      }
      exact += copies.size() - distinct.size();
      conflicting += distinct.size() - keptHere.size();
    }
    return Map.entry(kept, new long[] {exact, conflicting});
  }

  /**
   * e1 every 2 days (a chain: each copy is within 3 days of the one before, so only the first
   * stands, though the third is 4 days after the first); e2 4 days apart (both stand); e3 exactly
   * 3 days apart (the later is dropped: "no more than"); e4 twice at the same time, differing.
   */
  static List<TimestampedValue<Row>> horizonInput() {
    return List.of(
        ev("e1", "u1", 1.0, JAN5),
        ev("e1", "u1", 1.0, JAN5 + 2 * DAY),
        ev("e1", "u1", 1.0, JAN5 + 4 * DAY),
        ev("e2", "u1", 2.0, JAN5 + HOUR),
        ev("e2", "u1", 2.0, JAN5 + HOUR + 4 * DAY),
        ev("e2", "u1", 2.0, JAN5 + HOUR + 4 * DAY),
        ev("e3", "u2", 3.0, JAN5 + 2 * HOUR),
        ev("e3", "u2", 5.0, JAN5 + 2 * HOUR + 3 * DAY),
        ev("e4", "u3", 7.0, JAN5 + 5 * DAY),
        ev("e4", "u3", 8.0, JAN5 + 5 * DAY));
  }

  static final List<String> HORIZON_KEPT = List.of(
      "e1,u1,1.0,2025-01-05T00:00:00Z",
      "e2,u1,2.0,2025-01-05T01:00:00Z",
      "e2,u1,2.0,2025-01-09T01:00:00Z",
      "e3,u2,3.0,2025-01-05T02:00:00Z",
      "e4,u3,7.0,2025-01-10T00:00:00Z");

  @Test
  void aCopyWithinTheHorizonOfAnyEarlierCopyIsDroppedAndOneBeyondItStands(TestPipeline p) {
    assertThat(literalRule(horizonInput(), 3 * DAY).getKey(),
        org.hamcrest.Matchers.containsInAnyOrder(HORIZON_KEPT.toArray()));
    PCollection<Row> events = p.apply(
        Create.timestamped(horizonInput()).withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)));
    for (DeduplicateEvents.Method method : new DeduplicateEvents.Method[] {
        DeduplicateEvents.Method.GROUP_REPEATED_KEYS, DeduplicateEvents.Method.STATE_AND_TIMERS}) {
      PCollection<Row> kept =
          events.apply("Dedup" + method, DeduplicateEvents.of(within("3d")).withMethod(method));
      PAssert.that(kept.apply("Csv" + method,
              MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
          .containsInAnyOrder(HORIZON_KEPT);
      PAssert.that(kept.apply("Stamps" + method, ParDo.of(new IdAtTimestamp())))
          .containsInAnyOrder("e1@" + JAN5, "e2@" + (JAN5 + HOUR), "e2@" + (JAN5 + HOUR + 4 * DAY),
              "e3@" + (JAN5 + 2 * HOUR), "e4@" + (JAN5 + 5 * DAY));
    }
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // Per method: exact, e2's third copy; conflicting, e1's two later copies (one serialization
    // each time), e3's later one and e4's larger one.
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(2 * 1L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING),
        equalTo(2 * 4L));
  }

  /**
   * 3,000 events over 1,200 ids spread over 12 days, copies at random distances: both methods keep
   * what the literal rule keeps, for a horizon of hours and of days, with the same counts.
   */
  @Test
  void bothMethodsApplyTheLiteralRuleUnderAHorizon(TestPipeline p) {
    java.util.Random random = new java.util.Random(17);
    List<TimestampedValue<Row>> in = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      String id = "e" + random.nextInt(1_200);
      long ts = JAN5 + random.nextInt(12 * 24) * HOUR + random.nextInt(3) * 1000L;
      in.add(ev(id, "u" + random.nextInt(40), (double) random.nextInt(2), ts));
    }
    long[] exactAndConflicting = new long[2];
    for (String w : new String[] {"5h", "2d"}) {
      long millis = w.endsWith("h") ? 5 * HOUR : 2 * DAY;
      Map.Entry<List<String>, long[]> literal = literalRule(in, millis);
      exactAndConflicting[0] += literal.getValue()[0];
      exactAndConflicting[1] += literal.getValue()[1];
      PCollection<Row> events = p.apply("Create" + w,
          Create.timestamped(in).withCoder(org.apache.beam.sdk.coders.RowCoder.of(S)));
      for (DeduplicateEvents.Method method : new DeduplicateEvents.Method[] {
          DeduplicateEvents.Method.GROUP_REPEATED_KEYS,
          DeduplicateEvents.Method.STATE_AND_TIMERS}) {
        PAssert.that(events
                .apply("Dedup" + w + method, DeduplicateEvents.of(within(w)).withMethod(method))
                .apply("Csv" + w + method,
                    MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
            .containsInAnyOrder(literal.getKey());
      }
    }
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(exactAndConflicting[1] > 200, org.hamcrest.Matchers.is(true));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT),
        equalTo(2 * exactAndConflicting[0]));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING),
        equalTo(2 * exactAndConflicting[1]));
  }

  /**
   * The same kind of input as a stream, day by day with the watermark after each day, so that keys
   * are decided and forgotten as they go: 1,200 ids share the stream's buckets (several keys a
   * bucket, with copies on different days), and what is kept and counted is the literal rule's.
   */
  @Test
  void aStreamOfManyKeysPerBucketAppliesTheLiteralRule(TestPipeline p) {
    java.util.Random random = new java.util.Random(23);
    List<TimestampedValue<Row>> in = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      String id = "e" + random.nextInt(1_200);
      long ts = JAN5 + random.nextInt(12 * 24) * HOUR + random.nextInt(3) * 1000L;
      in.add(ev(id, "u" + random.nextInt(40), (double) random.nextInt(2), ts));
    }
    java.util.Set<Integer> buckets = new java.util.HashSet<>();
    for (TimestampedValue<Row> e : in) {
      buckets.add(DedupByStateFn.bucket(e.getValue().getString("event_id")));
    }
    assertThat(buckets.size() > 200 && buckets.size() <= DedupByStateFn.BUCKETS,
        org.hamcrest.Matchers.is(true));
    // Day by day in event-time order, shuffled within a day.
    java.util.TreeMap<Long, List<TimestampedValue<Row>>> byDay = new java.util.TreeMap<>();
    for (TimestampedValue<Row> e : in) {
      byDay.computeIfAbsent(Math.floorDiv(e.getTimestamp().getMillis(), DAY), d -> new ArrayList<>())
          .add(e);
    }
    long[] exactAndConflicting = new long[2];
    for (String w : new String[] {"5h", "2d"}) {
      Map.Entry<List<String>, long[]> literal = literalRule(in, w.endsWith("h") ? 5 * HOUR : 2 * DAY);
      exactAndConflicting[0] += literal.getValue()[0];
      exactAndConflicting[1] += literal.getValue()[1];
      org.apache.beam.sdk.testing.TestStream.Builder<Row> stream =
          org.apache.beam.sdk.testing.TestStream.create(org.apache.beam.sdk.coders.RowCoder.of(S));
      for (Map.Entry<Long, List<TimestampedValue<Row>>> day : byDay.entrySet()) {
        List<TimestampedValue<Row>> events = new ArrayList<>(day.getValue());
        Collections.shuffle(events, random);
        TimestampedValue<Row> first = events.get(0);
        @SuppressWarnings("unchecked")
        TimestampedValue<Row>[] rest = events.subList(1, events.size()).toArray(new TimestampedValue[0]);
        stream = stream.addElements(first, rest)
            .advanceWatermarkTo(new Instant((day.getKey() + 1) * DAY));
      }
      PAssert.that(p.apply("Stream" + w, stream.advanceWatermarkToInfinity())
              .apply("Dedup" + w, DeduplicateEvents.of(within(w)))
              .apply("Csv" + w, MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
          .containsInAnyOrder(literal.getKey());
    }
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(exactAndConflicting[1] > 200, org.hamcrest.Matchers.is(true));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT),
        equalTo(exactAndConflicting[0]));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING),
        equalTo(exactAndConflicting[1]));
  }

  /** The unbounded rule is the literal rule without a horizon, on the many-events input too. */
  @Test
  void withoutAHorizonTheLiteralRuleIsThePlainOne() {
    List<TimestampedValue<Row>> in = manyEvents(2_000, 1_500);
    Map.Entry<List<String>, long[]> literal = literalRule(in, null);
    Map.Entry<List<String>, long[]> plain = plainRule(in);
    assertThat(literal.getKey(),
        org.hamcrest.Matchers.containsInAnyOrder(plain.getKey().toArray()));
    assertThat(literal.getValue(), equalTo(plain.getValue()));
  }

  /**
   * On a stream: a copy that arrives after its twin within the horizon is dropped, even once its
   * twin's day was decided and went on; one that arrives beyond the horizon is an event in its own
   * right; a copy of an earlier time that arrives first loses to the earlier one, which comes
   * later in the same day. The watermark advances between them.
   */
  @Test
  void aStreamAppliesTheHorizonToCopiesArrivingLater(TestPipeline p) {
    org.apache.beam.sdk.testing.TestStream<Row> stream =
        org.apache.beam.sdk.testing.TestStream.create(org.apache.beam.sdk.coders.RowCoder.of(S))
            .addElements(ev("a", "u1", 1.0, JAN5 + 10 * HOUR), ev("b", "u1", 2.0, JAN5 + 9 * HOUR))
            .addElements(ev("b", "u1", 2.5, JAN5 + 8 * HOUR))
            .advanceWatermarkTo(new Instant(JAN5 + DAY + HOUR))
            // within a day of a's copy on Jan 5: dropped, though a's day went out already
            .addElements(ev("a", "u1", 1.5, JAN5 + DAY + 2 * HOUR))
            .advanceWatermarkTo(new Instant(JAN5 + 3 * DAY))
            // more than a day after a's last copy (Jan 6 02:00): it stands
            .addElements(ev("a", "u1", 1.0, JAN5 + 3 * DAY + 3 * HOUR))
            .advanceWatermarkToInfinity();
    PCollection<Row> kept = p.apply(stream)
        .apply(DeduplicateEvents.of(within("1d")));
    PAssert.that(kept.apply("Csv", MapElements.into(TypeDescriptors.strings()).via(Fixtures::csv)))
        .containsInAnyOrder("a,u1,1.0,2025-01-05T10:00:00Z", "b,u1,2.5,2025-01-05T08:00:00Z",
            "a,u1,1.0,2025-01-08T03:00:00Z");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_EXACT), equalTo(0L));
    assertThat(counter(result, Counters.NAMESPACE, Counters.DUPLICATES_CONFLICTING), equalTo(2L));
  }

  @Test
  void aStreamNeedsAFiniteHorizon(TestPipeline p) {
    org.apache.beam.sdk.testing.TestStream<Row> stream =
        org.apache.beam.sdk.testing.TestStream.create(org.apache.beam.sdk.coders.RowCoder.of(S))
            .advanceWatermarkToInfinity();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(stream).apply(DeduplicateEvents.of(SPEC)));
    assertThat(e.getMessage(), org.hamcrest.Matchers.containsString("finite dedup_within"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
