package dev.featurebeam.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.QualityCheck;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Filter;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class QualityGateTest {
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

  static PCollection<String> gate(TestPipeline p, String name, FeatureSpec spec, List<Row> rows,
      AsOfRange range, Map<Long, Long> published) {
    Schema s = spec.outputSchema();
    PCollection<Row> in = rows.isEmpty()
        ? p.apply("Rows" + name, Create.empty(org.apache.beam.sdk.coders.RowCoder.of(s)))
        : p.apply("Rows" + name, Create.of(rows).withRowSchema(s));
    return in.apply("Gate" + name, QualityGate.of(spec, range, published))
        .apply("Show" + name, MapElements.into(TypeDescriptors.strings()).via(QualityGateTest::show));
  }

  @Test
  void rowChecksCountFailuresAndGiveTheSmallestEntitiesAsExamples(TestPipeline p) {
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
    PAssert.that(gate(p, "", ROW_CHECKS, rows, AsOfRange.single(D10), Map.of())).containsInAnyOrder(
        "2025-01-10 rows=10 REJECTED"
            + " | avg_7d between [0, 100]: FAIL (6 of 10 rows fail, e.g. amy, bob, cat, dan, eve)"
            + " | avg_7d not_null: FAIL (1 of 10 rows fail, e.g. nul)"
            + " | cnt_7d <= cnt_30d: FAIL (1 of 10 rows fail, e.g. nul)"
            + " | max_row_count_change 0.5: pass (10 rows; no earlier published partition to compare with)");
    p.run().waitUntilFinish();
  }

  @Test
  void aPassingPartition(TestPipeline p) {
    PAssert.that(gate(p, "", ROW_CHECKS, passing(ROW_CHECKS, D10, 3, "u"), AsOfRange.single(D10), Map.of()))
        .containsInAnyOrder("2025-01-10 rows=3 PASSED"
            + " | avg_7d between [0, 100]: pass (0 of 3 rows fail)"
            + " | avg_7d not_null: pass (0 of 3 rows fail)"
            + " | cnt_7d <= cnt_30d: pass (0 of 3 rows fail)"
            + " | max_row_count_change 0.5: pass (3 rows; no earlier published partition to compare with)");
    p.run().waitUntilFinish();
  }

  @Test
  void examplesAreTheFiveSmallestAcrossManyFailures(TestPipeline p) {
    List<Row> rows = new ArrayList<>();
    // 40 failing entities in descending order; examples must be the 5 smallest strings
    for (int i = 40; i >= 1; i--) {
      rows.add(row(ROW_CHECKS, D10, String.format("e%02d", i), -1.0 * i, 1L, 1L));
    }
    PAssert.that(gate(p, "", ROW_CHECKS, rows, AsOfRange.single(D10), Map.of())).containsInAnyOrder(
        "2025-01-10 rows=40 REJECTED"
            + " | avg_7d between [0, 100]: FAIL (40 of 40 rows fail, e.g. e01, e02, e03, e04, e05)"
            + " | avg_7d not_null: pass (0 of 40 rows fail)"
            + " | cnt_7d <= cnt_30d: pass (0 of 40 rows fail)"
            + " | max_row_count_change 0.5: pass (40 rows; no earlier published partition to compare with)");
    p.run().waitUntilFinish();
  }

  @Test
  void aDateInTheRangeWithoutRowsGetsAVerdict(TestPipeline p) {
    PAssert.that(gate(p, "", ROW_CHECKS, passing(ROW_CHECKS, D10, 2, "u"), AsOfRange.of(D10, D11), Map.of()))
        .containsInAnyOrder(
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
                + " | max_row_count_change 0.5: FAIL (0 rows vs 2 on 2025-01-10: change 1.000 (limit 0.5))");
    p.run().waitUntilFinish();
  }

  @Test
  void noRowsAtAll(TestPipeline p) {
    PAssert.that(gate(p, "", ROW_COUNT, List.of(), AsOfRange.single(D10), Map.of())).containsInAnyOrder(
        "2025-01-10 rows=0 PASSED"
            + " | avg_7d not_null: pass (0 of 0 rows fail)"
            + " | max_row_count_change 0.2: pass (0 rows; no earlier published partition to compare with)");
    p.run().waitUntilFinish();
  }

  @Test
  void rowCountChangeAgainstPublishedBaselines(TestPipeline p) {
    AsOfRange r = AsOfRange.single(D10);
    List<Row> ten = passing(ROW_COUNT, D10, 10, "u");
    List<Row> twelve = passing(ROW_COUNT, D10, 12, "u");
    long d = D10.toEpochDay();
    String checks = " | avg_7d not_null: pass (0 of %d rows fail) | max_row_count_change 0.2: ";
    // within the limit
    PAssert.that(gate(p, "Within", ROW_COUNT, ten, r, Map.of(d - 1, 9L))).containsInAnyOrder(
        "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
            + "pass (10 rows vs 9 on 2025-01-09: change 0.111 (limit 0.2))");
    // exactly at the limit passes
    PAssert.that(gate(p, "AtLimit", ROW_COUNT, twelve, r, Map.of(d - 1, 10L))).containsInAnyOrder(
        "2025-01-10 rows=12 PASSED" + String.format(checks, 12)
            + "pass (12 rows vs 10 on 2025-01-09: change 0.200 (limit 0.2))");
    // beyond the limit, up and down
    PAssert.that(gate(p, "Beyond", ROW_COUNT, ten, r, Map.of(d - 1, 5L))).containsInAnyOrder(
        "2025-01-10 rows=10 REJECTED" + String.format(checks, 10)
            + "FAIL (10 rows vs 5 on 2025-01-09: change 1.000 (limit 0.2))");
    PAssert.that(gate(p, "Drop", ROW_COUNT, ten, r, Map.of(d - 1, 13L))).containsInAnyOrder(
        "2025-01-10 rows=10 REJECTED" + String.format(checks, 10)
            + "FAIL (10 rows vs 13 on 2025-01-09: change 0.231 (limit 0.2))");
    // the nearest earlier published partition is the baseline
    PAssert.that(gate(p, "Nearest", ROW_COUNT, ten, r, Map.of(d - 5, 100L, d - 2, 10L))).containsInAnyOrder(
        "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
            + "pass (10 rows vs 10 on 2025-01-08: change 0.000 (limit 0.2))");
    // no baseline: nothing earlier, only a later partition, or only the same date (a rerun)
    String noBaseline = "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
        + "pass (10 rows; no earlier published partition to compare with)";
    PAssert.that(gate(p, "None", ROW_COUNT, ten, r, Map.of())).containsInAnyOrder(noBaseline);
    PAssert.that(gate(p, "Later", ROW_COUNT, ten, r, Map.of(d + 1, 100L))).containsInAnyOrder(noBaseline);
    PAssert.that(gate(p, "Same", ROW_COUNT, ten, r, Map.of(d, 100L))).containsInAnyOrder(noBaseline);
    p.run().waitUntilFinish();
  }

  @Test
  void rowCountChangeAgainstThePreviousDateOfTheSameRun(TestPipeline p) {
    List<Row> rows = new ArrayList<>();
    rows.addAll(passing(ROW_COUNT, D10, 10, "a"));
    rows.addAll(passing(ROW_COUNT, D11, 12, "b"));
    rows.addAll(passing(ROW_COUNT, D12, 20, "c"));
    String checks = " | avg_7d not_null: pass (0 of %d rows fail) | max_row_count_change 0.2: ";
    PAssert.that(gate(p, "", ROW_COUNT, rows, AsOfRange.of(D10, D12), Map.of(D9.toEpochDay(), 10L)))
        .containsInAnyOrder(
            "2025-01-10 rows=10 PASSED" + String.format(checks, 10)
                + "pass (10 rows vs 10 on 2025-01-09: change 0.000 (limit 0.2))",
            "2025-01-11 rows=12 PASSED" + String.format(checks, 12)
                + "pass (12 rows vs 10 on 2025-01-10: change 0.200 (limit 0.2))",
            "2025-01-12 rows=20 REJECTED" + String.format(checks, 20)
                + "FAIL (20 rows vs 12 on 2025-01-11: change 0.667 (limit 0.2))");
    p.run().waitUntilFinish();
  }

  @Test
  void aRejectedDateIsStillTheNextDatesBaseline(TestPipeline p) {
    List<Row> rows = new ArrayList<>();
    rows.addAll(passing(ROW_COUNT, D10, 10, "a"));
    // 2025-01-11 has 12 rows, one of them with a null average: rejected by not_null
    rows.addAll(passing(ROW_COUNT, D11, 11, "b"));
    rows.add(row(ROW_COUNT, D11, "b_null", null, 1L, 1L));
    // 2025-01-12: 9 rows, 25% below 2025-01-11 as this run computed it (10% below 2025-01-10)
    rows.addAll(passing(ROW_COUNT, D12, 9, "c"));
    PAssert.that(gate(p, "", ROW_COUNT, rows, AsOfRange.of(D10, D12), Map.of(D9.toEpochDay(), 10L)))
        .containsInAnyOrder(
            "2025-01-10 rows=10 PASSED | avg_7d not_null: pass (0 of 10 rows fail)"
                + " | max_row_count_change 0.2: pass (10 rows vs 10 on 2025-01-09: change 0.000 (limit 0.2))",
            "2025-01-11 rows=12 REJECTED | avg_7d not_null: FAIL (1 of 12 rows fail, e.g. b_null)"
                + " | max_row_count_change 0.2: pass (12 rows vs 10 on 2025-01-10: change 0.200 (limit 0.2))",
            "2025-01-12 rows=9 REJECTED | avg_7d not_null: pass (0 of 9 rows fail)"
                + " | max_row_count_change 0.2: FAIL (9 rows vs 12 on 2025-01-11: change 0.250 (limit 0.2))");
    p.run().waitUntilFinish();
  }

  /**
   * One bad day in a long backfill rejects itself and the day its count comes back, not every
   * later day: each date is compared with the date before it, not with the last one published.
   */
  @Test
  void oneBadDayDoesNotRejectEveryLaterDay(TestPipeline p) {
    LocalDate from = LocalDate.parse("2025-01-01");
    LocalDate to = from.plusDays(59);
    LocalDate bad = from.plusDays(20);
    List<Row> rows = new ArrayList<>();
    for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
      rows.addAll(passing(ROW_COUNT, d, d.equals(bad) ? 5 : 10, "u" + d.getDayOfYear() + "_"));
    }
    PCollection<String> rejected =
        gate(p, "", ROW_COUNT, rows, AsOfRange.of(from, to), Map.of())
            .apply(Filter.by((String v) -> v.contains("REJECTED")))
            .apply(MapElements.into(TypeDescriptors.strings()).via(v -> v.substring(0, 10)));
    PAssert.that(rejected).containsInAnyOrder(bad.toString(), bad.plusDays(1).toString());
    p.run().waitUntilFinish();
  }

  @Test
  void aDateAfterAnEmptyOneHasNoBaseline(TestPipeline p) {
    // 2025-01-10 has no rows; 2025-01-11 compares with it, and a change from zero rows, which
    // would be infinite, is no reason to reject.
    List<Row> rows = new ArrayList<>();
    rows.addAll(passing(ROW_COUNT, D11, 11, "b"));
    PAssert.that(gate(p, "", ROW_COUNT, rows, AsOfRange.of(D10, D11), Map.of(D9.toEpochDay(), 10L)))
        .containsInAnyOrder(
            "2025-01-10 rows=0 REJECTED | avg_7d not_null: pass (0 of 0 rows fail)"
                + " | max_row_count_change 0.2: FAIL (0 rows vs 10 on 2025-01-09: change 1.000 (limit 0.2))",
            "2025-01-11 rows=11 PASSED | avg_7d not_null: pass (0 of 11 rows fail)"
                + " | max_row_count_change 0.2: pass (11 rows; 2025-01-10 has no rows to compare with)");
    PAssert.that(gate(p, "NoEarlier", ROW_COUNT, rows, AsOfRange.of(D10, D11), Map.of()))
        .containsInAnyOrder(
            "2025-01-10 rows=0 PASSED | avg_7d not_null: pass (0 of 0 rows fail)"
                + " | max_row_count_change 0.2: pass (0 rows; no earlier published partition to compare with)",
            "2025-01-11 rows=11 PASSED | avg_7d not_null: pass (0 of 11 rows fail)"
                + " | max_row_count_change 0.2: pass (11 rows; 2025-01-10 has no rows to compare with)");
    p.run().waitUntilFinish();
  }

  @Test
  void compareWithNumbersAndOtherOperators() {
    Row r = row(ROW_CHECKS, D10, "u", 5.0, 2L, 3L);
    assertThat(QualityGate.holds(QualityCheck.compare("cnt_7d", "<", "cnt_30d"), r), is(true));
    assertThat(QualityGate.holds(QualityCheck.compare("cnt_7d", ">", "cnt_30d"), r), is(false));
    assertThat(QualityGate.holds(QualityCheck.compare("cnt_7d", ">=", "2"), r), is(true));
    assertThat(QualityGate.holds(QualityCheck.compare("avg_7d", "==", "5"), r), is(true));
    assertThat(QualityGate.holds(QualityCheck.compare("avg_7d", "!=", "5"), r), is(false));
    assertThat(QualityGate.holds(QualityCheck.compare("0", "<=", "avg_7d"), r), is(true));
    assertThat(QualityGate.holds(QualityCheck.between("avg_7d", 5, 5), r), is(true));
    assertThat(QualityGate.holds(QualityCheck.between("avg_7d", 5.01, 6), r), is(false));
    assertThat(QualityGate.holds(QualityCheck.notNull("cnt_30d"), r), is(true));
    Row nulls = row(ROW_CHECKS, D10, "u", null, null, 3L);
    assertThat(QualityGate.holds(QualityCheck.compare("cnt_7d", ">", "cnt_30d"), nulls), is(true));
    assertThat(QualityGate.holds(QualityCheck.between("avg_7d", 0, 1), nulls), is(true));
    assertThat(QualityGate.holds(QualityCheck.notNull("avg_7d"), nulls), is(false));
  }

  @Test
  void partialStatsMergeAndSurviveTheirCoder() throws Exception {
    // CheckRowsFn emits partial Stats per bundle; MergeStatsFn must give what one pass gives.
    QualityGate.Stats a = new QualityGate.Stats(2);
    a.rows = 4;
    for (String e : List.of("u9", "u3", "u7")) {
      a.fail(0, e);
    }
    QualityGate.Stats b = new QualityGate.Stats(2);
    b.rows = 3;
    for (String e : List.of("u1", "u8", "u2", "u5")) {
      b.fail(0, e);
    }
    b.fail(1, "u4");
    QualityGate.MergeStatsFn fn = new QualityGate.MergeStatsFn(2);
    QualityGate.Stats merged = fn.mergeAccumulators(
        List.of(fn.addInput(fn.createAccumulator(), a), fn.addInput(fn.createAccumulator(), b)));
    assertThat(merged.rows, is(7L));
    assertThat(merged.failures[0], is(7L));
    assertThat(merged.failures[1], is(1L));
    assertThat(List.copyOf(merged.examples.get(0)), is(List.of("u1", "u2", "u3", "u5", "u7")));
    assertThat(List.copyOf(merged.examples.get(1)), is(List.of("u4")));
    assertThat(a.rows, is(4L)); // inputs are not mutated
    CoderProperties.coderDecodeEncodeEqual(QualityGate.StatsCoder.of(), merged);
  }
}
