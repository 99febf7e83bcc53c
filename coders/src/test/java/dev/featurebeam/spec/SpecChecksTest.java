package dev.featurebeam.spec;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionVerdict;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

/** The spec's quality checks, as the offline store runs them: per-file partials, then one judge. */
class SpecChecksTest {
  static final String HEAD =
      "feature_set: q\n"
          + "version: 1\n"
          + "entity: user_id\n"
          + "timestamp: ts\n"
          + "source_schema:\n"
          + "  user_id: {type: string, required: true}\n"
          + "  amount:  {type: double}\n"
          + "  ts:      {type: timestamp, required: true}\n"
          + "features:\n"
          + "  - {name: avg_7d, agg: avg, field: amount, window: 7d}\n"
          + "  - {name: cnt_7d, agg: count, window: 7d}\n"
          + "  - {name: cnt_30d, agg: count, window: 30d}\n";

  static final FeatureSpec ROW_CHECKS = SpecParser.parse(HEAD
      + "quality:\n"
      + "  - {column: avg_7d, between: [0, 100]}\n"
      + "  - {column: avg_7d, not_null: true}\n"
      + "  - {check: \"cnt_7d <= cnt_30d\"}\n"
      + "  - {max_row_count_change: 0.5}\n");

  static final FeatureSpec ROW_COUNT = SpecParser.parse(HEAD
      + "quality:\n"
      + "  - {column: avg_7d, not_null: true}\n"
      + "  - {max_row_count_change: 0.2}\n");

  static final LocalDate D9 = LocalDate.parse("2025-01-09");
  static final LocalDate D10 = LocalDate.parse("2025-01-10");
  static final LocalDate D11 = LocalDate.parse("2025-01-11");
  static final LocalDate D12 = LocalDate.parse("2025-01-12");

  static Row row(FeatureSpec spec, LocalDate date, String entity, Double avg, Long cnt7, Long cnt30) {
    return Row.withSchema(spec.outputSchema()).addValues(entity, date, avg, cnt7, cnt30).build();
  }

  /** n passing rows for one date, entities prefix0..prefix(n-1). */
  static List<Row> passing(FeatureSpec spec, LocalDate date, int n, String prefix) {
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(row(spec, date, prefix + i, 1.0, 1L, 1L));
    }
    return out;
  }

  static List<LocalDate> range(LocalDate from, LocalDate to) {
    return from.datesUntil(to.plusDays(1)).collect(Collectors.toList());
  }

  static String show(PartitionVerdict v) {
    StringBuilder sb = new StringBuilder()
        .append(LocalDate.ofEpochDay(v.asOfEpochDay()))
        .append(" rows=").append(v.rowCount())
        .append(v.passed() ? " PASSED" : " REJECTED");
    for (CheckOutcome c : v.checks()) {
      sb.append(" | ").append(c.check()).append(": ").append(c.passed() ? "pass" : "FAIL")
          .append(" (").append(c.detail()).append(')');
    }
    return sb.toString();
  }

  /**
   * The verdicts, in date order, as the store reaches them: the rows spread over three files per
   * date, each file's statistics encoded and decoded, then merged and judged at once.
   */
  static List<String> judge(FeatureSpec spec, List<Row> rows, List<LocalDate> dates,
      Map<Long, Long> published) throws Exception {
    SpecChecks checks = SerializableUtils.clone(SpecChecks.of(spec, // as a worker gets them
        dates.stream().map(LocalDate::toEpochDay).collect(Collectors.toList()),
        SpecChecks.Baselines.of(published)));
    Map<KV<Long, Integer>, SpecChecks.Stats> files = new HashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      long day = r.getLogicalTypeValue(FeatureSpec.AS_OF_DATE, LocalDate.class).toEpochDay();
      checks.add(files.computeIfAbsent(KV.of(day, i % 3), k -> checks.create()), r);
    }
    List<KV<Long, SpecChecks.Stats>> partials = new ArrayList<>();
    for (Map.Entry<KV<Long, Integer>, SpecChecks.Stats> e : files.entrySet()) {
      byte[] bytes = CoderUtils.encodeToByteArray(checks.statsCoder(), e.getValue());
      partials.add(KV.of(e.getKey().getKey(),
          CoderUtils.decodeFromByteArray(checks.statsCoder(), bytes)));
    }
    return checks.judgePartials(partials).stream().map(SpecChecksTest::show)
        .collect(Collectors.toList());
  }

  @Test
  void rowChecksCountFailuresAndGiveTheSmallestEntitiesAsExamples() throws Exception {
    List<Row> rows = List.of(
        row(ROW_CHECKS, D10, "zed", 100.01, 1L, 1L),
        row(ROW_CHECKS, D10, "eve", 200.0, 1L, 1L),
        row(ROW_CHECKS, D10, "amy", -1.0, 1L, 1L),
        row(ROW_CHECKS, D10, "dan", -0.5, 1L, 1L),
        row(ROW_CHECKS, D10, "cat", 1000.0, 1L, 1L),
        row(ROW_CHECKS, D10, "bob", 101.0, 1L, 1L),
        // bounds are inclusive; 3 <= 3 holds
        row(ROW_CHECKS, D10, "u1", 100.0, 2L, 3L),
        row(ROW_CHECKS, D10, "u2", 0.0, 3L, 3L),
        // a null passes between but not not_null; 5 <= 4 fails
        row(ROW_CHECKS, D10, "nul", null, 5L, 4L),
        // a null operand passes the comparison
        row(ROW_CHECKS, D10, "half", 10.0, 7L, null));
    assertThat(judge(ROW_CHECKS, rows, List.of(D10), Map.of()), contains(
        "2025-01-10 rows=10 REJECTED"
            + " | avg_7d between [0, 100]: FAIL (6 of 10 rows fail, e.g. amy, bob, cat, dan, eve)"
            + " | avg_7d not_null: FAIL (1 of 10 rows fail, e.g. nul)"
            + " | cnt_7d <= cnt_30d: FAIL (1 of 10 rows fail, e.g. nul)"
            + " | max_row_count_change 0.5: pass (10 rows; no earlier published partition to compare with)"));
  }

  @Test
  void aPassingPartition() throws Exception {
    assertThat(judge(ROW_CHECKS, passing(ROW_CHECKS, D10, 3, "u"), List.of(D10), Map.of()),
        contains("2025-01-10 rows=3 PASSED"
            + " | avg_7d between [0, 100]: pass (0 of 3 rows fail)"
            + " | avg_7d not_null: pass (0 of 3 rows fail)"
            + " | cnt_7d <= cnt_30d: pass (0 of 3 rows fail)"
            + " | max_row_count_change 0.5: pass (3 rows; no earlier published partition to compare with)"));
  }

  @Test
  void examplesAreTheFiveSmallestAcrossManyFailures() throws Exception {
    List<Row> rows = new ArrayList<>();
    // 40 failing entities in descending order; examples must be the 5 smallest strings
    for (int i = 40; i >= 1; i--) {
      rows.add(row(ROW_CHECKS, D10, String.format("e%02d", i), -1.0 * i, 1L, 1L));
    }
    assertThat(judge(ROW_CHECKS, rows, List.of(D10), Map.of()), contains(
        "2025-01-10 rows=40 REJECTED"
            + " | avg_7d between [0, 100]: FAIL (40 of 40 rows fail, e.g. e01, e02, e03, e04, e05)"
            + " | avg_7d not_null: pass (0 of 40 rows fail)"
            + " | cnt_7d <= cnt_30d: pass (0 of 40 rows fail)"
            + " | max_row_count_change 0.5: pass (40 rows; no earlier published partition to compare with)"));
  }

  @Test
  void aDateInTheRangeWithoutRowsGetsAVerdict() throws Exception {
    assertThat(judge(ROW_CHECKS, passing(ROW_CHECKS, D10, 2, "u"), range(D10, D11), Map.of()),
        contains(
            "2025-01-10 rows=2 PASSED"
                + " | avg_7d between [0, 100]: pass (0 of 2 rows fail)"
                + " | avg_7d not_null: pass (0 of 2 rows fail)"
                + " | cnt_7d <= cnt_30d: pass (0 of 2 rows fail)"
                + " | max_row_count_change 0.5: pass (2 rows; no earlier published partition to compare with)",
            // an empty partition after a published one is a 100% drop
            "2025-01-11 rows=0 REJECTED"
                + " | avg_7d between [0, 100]: pass (0 of 0 rows fail)"
                + " | avg_7d not_null: pass (0 of 0 rows fail)"
                + " | cnt_7d <= cnt_30d: pass (0 of 0 rows fail)"
                + " | max_row_count_change 0.5: FAIL (0 rows vs 2 on 2025-01-10: change 1.000 (limit 0.5))"));
  }

  @Test
  void noRowsAtAll() throws Exception {
    assertThat(judge(ROW_COUNT, List.of(), List.of(D10), Map.of()), contains(
        "2025-01-10 rows=0 PASSED"
            + " | avg_7d not_null: pass (0 of 0 rows fail)"
            + " | max_row_count_change 0.2: pass (0 rows; no earlier published partition to compare with)"));
  }

  @Test
  void rowCountChangeAgainstPublishedBaselines() throws Exception {
    List<LocalDate> r = List.of(D10);
    List<Row> ten = passing(ROW_COUNT, D10, 10, "u");
    List<Row> twelve = passing(ROW_COUNT, D10, 12, "u");
    long d = D10.toEpochDay();
    String checks = " | avg_7d not_null: pass (0 of %d rows fail) | max_row_count_change 0.2: ";
    // within the limit
    assertThat(judge(ROW_COUNT, ten, r, Map.of(d - 1, 9L)), contains(
        "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
            + "pass (10 rows vs 9 on 2025-01-09: change 0.111 (limit 0.2))"));
    // exactly at the limit passes
    assertThat(judge(ROW_COUNT, twelve, r, Map.of(d - 1, 10L)), contains(
        "2025-01-10 rows=12 PASSED" + String.format(checks, 12)
            + "pass (12 rows vs 10 on 2025-01-09: change 0.200 (limit 0.2))"));
    // beyond the limit, up and down
    assertThat(judge(ROW_COUNT, ten, r, Map.of(d - 1, 5L)), contains(
        "2025-01-10 rows=10 REJECTED" + String.format(checks, 10)
            + "FAIL (10 rows vs 5 on 2025-01-09: change 1.000 (limit 0.2))"));
    assertThat(judge(ROW_COUNT, ten, r, Map.of(d - 1, 13L)), contains(
        "2025-01-10 rows=10 REJECTED" + String.format(checks, 10)
            + "FAIL (10 rows vs 13 on 2025-01-09: change 0.231 (limit 0.2))"));
    // the nearest earlier published partition is the baseline
    assertThat(judge(ROW_COUNT, ten, r, Map.of(d - 5, 100L, d - 2, 10L)), contains(
        "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
            + "pass (10 rows vs 10 on 2025-01-08: change 0.000 (limit 0.2))"));
    // no baseline: nothing earlier, only a later partition, or only the same date (a rerun)
    String noBaseline = "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
        + "pass (10 rows; no earlier published partition to compare with)";
    assertThat(judge(ROW_COUNT, ten, r, Map.of()), contains(noBaseline));
    assertThat(judge(ROW_COUNT, ten, r, Map.of(d + 1, 100L)), contains(noBaseline));
    assertThat(judge(ROW_COUNT, ten, r, Map.of(d, 100L)), contains(noBaseline));
  }

  @Test
  void rowCountChangeAgainstThePreviousDateOfTheSameRun() throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.addAll(passing(ROW_COUNT, D10, 10, "a"));
    rows.addAll(passing(ROW_COUNT, D11, 12, "b"));
    rows.addAll(passing(ROW_COUNT, D12, 20, "c"));
    String checks = " | avg_7d not_null: pass (0 of %d rows fail) | max_row_count_change 0.2: ";
    assertThat(judge(ROW_COUNT, rows, range(D10, D12), Map.of(D9.toEpochDay(), 10L)), contains(
        "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
            + "pass (10 rows vs 10 on 2025-01-09: change 0.000 (limit 0.2))",
        "2025-01-11 rows=12 PASSED" + String.format(checks, 12)
            + "pass (12 rows vs 10 on 2025-01-10: change 0.200 (limit 0.2))",
        "2025-01-12 rows=20 REJECTED" + String.format(checks, 20)
            + "FAIL (20 rows vs 12 on 2025-01-11: change 0.667 (limit 0.2))"));
  }

  @Test
  void aRejectedDateIsStillTheNextDatesBaseline() throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.addAll(passing(ROW_COUNT, D10, 10, "a"));
    // 2025-01-11 has 12 rows, one of them with a null average: rejected by not_null
    rows.addAll(passing(ROW_COUNT, D11, 11, "b"));
    rows.add(row(ROW_COUNT, D11, "b_null", null, 1L, 1L));
    // 2025-01-12: 9 rows, 25% below 2025-01-11 as this run computed it (10% below 2025-01-10)
    rows.addAll(passing(ROW_COUNT, D12, 9, "c"));
    assertThat(judge(ROW_COUNT, rows, range(D10, D12), Map.of(D9.toEpochDay(), 10L)), contains(
        "2025-01-10 rows=10 PASSED | avg_7d not_null: pass (0 of 10 rows fail)"
            + " | max_row_count_change 0.2: pass (10 rows vs 10 on 2025-01-09: change 0.000 (limit 0.2))",
        "2025-01-11 rows=12 REJECTED | avg_7d not_null: FAIL (1 of 12 rows fail, e.g. b_null)"
            + " | max_row_count_change 0.2: pass (12 rows vs 10 on 2025-01-10: change 0.200 (limit 0.2))",
        "2025-01-12 rows=9 REJECTED | avg_7d not_null: pass (0 of 9 rows fail)"
            + " | max_row_count_change 0.2: FAIL (9 rows vs 12 on 2025-01-11: change 0.250 (limit 0.2))"));
  }

  /**
   * One bad day in a long backfill rejects itself and the day its count comes back, not every
   * later day: each date is compared with the date before it, not with the last one published.
   */
  @Test
  void oneBadDayDoesNotRejectEveryLaterDay() throws Exception {
    LocalDate from = LocalDate.parse("2025-01-01");
    LocalDate to = from.plusDays(59);
    LocalDate bad = from.plusDays(20);
    List<Row> rows = new ArrayList<>();
    for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
      rows.addAll(passing(ROW_COUNT, d, d.equals(bad) ? 5 : 10, "u" + d.getDayOfYear() + "_"));
    }
    List<String> rejected = judge(ROW_COUNT, rows, range(from, to), Map.of()).stream()
        .filter(v -> v.contains("REJECTED")).map(v -> v.substring(0, 10))
        .collect(Collectors.toList());
    assertThat(rejected, contains(bad.toString(), bad.plusDays(1).toString()));
  }

  @Test
  void aDateAfterAnEmptyOneHasNoBaseline() throws Exception {
    // 2025-01-10 has no rows; 2025-01-11 compares with it, and a change from zero rows, which
    // would be infinite, is no reason to reject.
    List<Row> rows = passing(ROW_COUNT, D11, 11, "b");
    assertThat(judge(ROW_COUNT, rows, range(D10, D11), Map.of(D9.toEpochDay(), 10L)), contains(
        "2025-01-10 rows=0 REJECTED | avg_7d not_null: pass (0 of 0 rows fail)"
            + " | max_row_count_change 0.2: FAIL (0 rows vs 10 on 2025-01-09: change 1.000 (limit 0.2))",
        "2025-01-11 rows=11 PASSED | avg_7d not_null: pass (0 of 11 rows fail)"
            + " | max_row_count_change 0.2: pass (11 rows; 2025-01-10 has no rows to compare with)"));
    assertThat(judge(ROW_COUNT, rows, range(D10, D11), Map.of()), contains(
        "2025-01-10 rows=0 PASSED | avg_7d not_null: pass (0 of 0 rows fail)"
            + " | max_row_count_change 0.2: pass (0 rows; no earlier published partition to compare with)",
        "2025-01-11 rows=11 PASSED | avg_7d not_null: pass (0 of 11 rows fail)"
            + " | max_row_count_change 0.2: pass (11 rows; 2025-01-10 has no rows to compare with)"));
  }

  @Test
  void baselinesAreReadWhenTheRunIsJudged() {
    Map<Long, Long> store = new HashMap<>();
    SpecChecks checks = SpecChecks.of(ROW_COUNT, List.of(D10.toEpochDay()), () -> store);
    SpecChecks.Stats stats = checks.create();
    passing(ROW_COUNT, D10, 10, "u").forEach(r -> checks.add(stats, r));
    store.put(D9.toEpochDay(), 20L); // published after the checks were made
    assertThat(show(checks.judgePartials(List.of(KV.of(D10.toEpochDay(), stats))).get(0)),
        is("2025-01-10 rows=10 REJECTED | avg_7d not_null: pass (0 of 10 rows fail)"
            + " | max_row_count_change 0.2: FAIL (10 rows vs 20 on 2025-01-09: change 0.500 (limit 0.2))"));
  }

  @Test
  void compareWithNumbersAndOtherOperators() {
    Row r = row(ROW_CHECKS, D10, "u", 5.0, 2L, 3L);
    assertThat(SpecChecks.holds(QualityCheck.compare("cnt_7d", "<", "cnt_30d"), r), is(true));
    assertThat(SpecChecks.holds(QualityCheck.compare("cnt_7d", ">", "cnt_30d"), r), is(false));
    assertThat(SpecChecks.holds(QualityCheck.compare("cnt_7d", ">=", "2"), r), is(true));
    assertThat(SpecChecks.holds(QualityCheck.compare("avg_7d", "==", "5"), r), is(true));
    assertThat(SpecChecks.holds(QualityCheck.compare("avg_7d", "!=", "5"), r), is(false));
    assertThat(SpecChecks.holds(QualityCheck.compare("0", "<=", "avg_7d"), r), is(true));
    assertThat(SpecChecks.holds(QualityCheck.between("avg_7d", 5, 5), r), is(true));
    assertThat(SpecChecks.holds(QualityCheck.between("avg_7d", 5.01, 6), r), is(false));
    assertThat(SpecChecks.holds(QualityCheck.notNull("cnt_30d"), r), is(true));
    Row nulls = row(ROW_CHECKS, D10, "u", null, null, 3L);
    assertThat(SpecChecks.holds(QualityCheck.compare("cnt_7d", ">", "cnt_30d"), nulls), is(true));
    assertThat(SpecChecks.holds(QualityCheck.between("avg_7d", 0, 1), nulls), is(true));
    assertThat(SpecChecks.holds(QualityCheck.notNull("avg_7d"), nulls), is(false));
  }

  @Test
  void partialStatsMergeWithoutChangingTheirInputs() {
    SpecChecks.Stats a = new SpecChecks.Stats(2);
    a.rows = 4;
    for (String e : List.of("u9", "u3", "u7")) {
      a.fail(0, e);
    }
    SpecChecks.Stats b = new SpecChecks.Stats(2);
    b.rows = 3;
    for (String e : List.of("u1", "u8", "u2", "u5")) {
      b.fail(0, e);
    }
    b.fail(1, "u4");
    SpecChecks.Stats merged = new SpecChecks.Stats(2);
    merged.merge(a);
    merged.merge(b);
    assertThat(merged.rows, is(7L));
    assertThat(merged.failures[0], is(7L));
    assertThat(merged.failures[1], is(1L));
    assertThat(List.copyOf(merged.examples.get(0)), is(List.of("u1", "u2", "u3", "u5", "u7")));
    assertThat(List.copyOf(merged.examples.get(1)), is(List.of("u4")));
    assertThat(a.rows, is(4L)); // inputs are not changed
    assertThat(List.copyOf(a.examples.get(0)), is(List.of("u3", "u7", "u9")));
  }

  @Test
  void statsCoderIsDeterministicAndConsistentWithEquals() throws Exception {
    SpecChecks.StatsCoder coder = SpecChecks.StatsCoder.of();
    SpecChecks.Stats none = new SpecChecks.Stats(0);
    SpecChecks.Stats some = new SpecChecks.Stats(3);
    some.rows = 1L << 40;
    some.fail(0, "ü");
    some.fail(2, "");
    some.fail(2, "a".repeat(70_000));
    SpecChecks.Stats sameInOtherOrder = new SpecChecks.Stats(3);
    sameInOtherOrder.rows = 1L << 40;
    sameInOtherOrder.fail(2, "a".repeat(70_000));
    sameInOtherOrder.fail(2, "");
    sameInOtherOrder.fail(0, "ü");
    for (SpecChecks.Stats s : List.of(none, new SpecChecks.Stats(2), some)) {
      CoderProperties.coderDecodeEncodeEqual(coder, s);
      CoderProperties.structuralValueDecodeEncodeEqual(coder, s);
    }
    CoderProperties.coderDeterministic(coder, some, sameInOtherOrder);
    CoderProperties.coderConsistentWithEquals(coder, some, sameInOtherOrder);
    CoderProperties.coderConsistentWithEquals(coder, some, none);
    coder.verifyDeterministic();
    CoderProperties.coderSerializable(coder);
  }

  @Test
  void factoryRefusesMissingParts() {
    assertThrows(NullPointerException.class,
        () -> SpecChecks.of(null, List.of(1L), SpecChecks.Baselines.of(Map.of())));
    assertThrows(IllegalArgumentException.class,
        () -> SpecChecks.of(ROW_COUNT, List.of(), SpecChecks.Baselines.of(Map.of())));
    assertThrows(NullPointerException.class, () -> SpecChecks.of(ROW_COUNT, List.of(1L), null));
    assertThat(SpecChecks.of(ROW_CHECKS, List.of(1L), SpecChecks.Baselines.of(Map.of()))
            .descriptions(),
        contains("avg_7d between [0, 100]", "avg_7d not_null", "cnt_7d <= cnt_30d",
            "max_row_count_change 0.5"));
  }
}
