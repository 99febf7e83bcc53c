package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --from/--to} is every as-of date of the range in one run; it must equal the single-date runs. */
class BackfillTest {
  private static final String FS = "user_features";
  private static final List<String> DATES = List.of("2025-01-09", "2025-01-10", "2025-01-11", "2025-01-12");

  @Test
  void backfillOfFourDatesEqualsFourSingleDateRuns(@TempDir Path tmp) throws Exception {
    Path events = Cli.generate(tmp.resolve("events.csv"), Map.of(
        "seed", "11", "events", "1500", "users", "60", "days", "12", "startDate", "2025-01-01",
        "duplicateFraction", "0.02", "malformedFraction", "0.01"));
    // The example spec without max_row_count_change: single-date runs and a backfill compare with
    // different baselines, and this test is about the feature rows, not row-count drift.
    Path spec = Cli.fixture("user_features_no_rowcount.yaml");

    Path backfill = tmp.resolve("out-backfill");
    Cli.batch(Cli.DIRECT, spec, events, backfill,
        "--from=" + DATES.get(0), "--to=" + DATES.get(DATES.size() - 1)).assertExit(0);

    Path singles = tmp.resolve("out-singles");
    for (String date : DATES) {
      Cli.batch(Cli.DIRECT, spec, events, singles, "--asOfDate=" + date).assertExit(0);
    }

    SortedMap<String, String> fromBackfill =
        Cli.only(Cli.snapshot(Cli.versionDir(backfill, FS, 1)), Cli::isParquetPart);
    SortedMap<String, String> fromSingles =
        Cli.only(Cli.snapshot(Cli.versionDir(singles, FS, 1)), Cli::isParquetPart);
    assertThat(fromBackfill.keySet().stream().map(p -> p.substring(0, p.indexOf('/'))).distinct()
            .collect(Collectors.toList()),
        equalTo(DATES.stream().map(d -> "as_of_date=" + d).collect(Collectors.toList())));
    for (String date : DATES) {
      List<String> rows = Cli.show(Cli.partitionDir(backfill, FS, 1, date)).assertExit(0).outLines();
      assertThat("rows on " + date, rows.size() > 1, is(true));
      // The readable comparison first, so that a difference shows which rows differ.
      assertThat("rows on " + date,
          Cli.show(Cli.partitionDir(singles, FS, 1, date)).assertExit(0).outLines(), equalTo(rows));
    }
    assertThat(fromSingles, equalTo(fromBackfill));
  }
}
