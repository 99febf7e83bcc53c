package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Determinism: the same input and spec give byte-identical Parquet files whatever the
 * runner, parallelism or input order; and property 3: a rerun rewrites a partition with the same
 * bytes and leaves nothing behind.
 */
class DeterminismTest {
  private static final String FS = "user_features";
  private static final String FROM = "2025-01-10";
  private static final String TO = "2025-01-14";
  private static final List<String> DATES =
      List.of("2025-01-10", "2025-01-11", "2025-01-12", "2025-01-13", "2025-01-14");

  @Test
  void directOverFileAEqualsFlinkOverShuffledFileBAndRerunsAreIdempotent(@TempDir Path tmp)
      throws Exception {
    // ~3000 events of 200 users over 20 days from 2025-01-01, with duplicates and malformed lines.
    Path fileA = Cli.generate(tmp.resolve("a/events.csv"), Map.of(
        "seed", "7", "events", "3000", "users", "200", "days", "20", "startDate", "2025-01-01",
        "duplicateFraction", "0.02", "malformedFraction", "0.01"));
    Path fileB = Cli.shuffledCopy(fileA, tmp.resolve("b/events.csv"), 1234);
    assertThat(Files.readAllLines(fileB).get(0), equalTo(Files.readAllLines(fileA).get(0)));
    assertThat(Files.readAllLines(fileB), not(equalTo(Files.readAllLines(fileA))));

    // The example spec, verbatim (its max_row_count_change: 0.5 holds on these dates).
    Path spec = Cli.fixture("user_features.yaml");
    Path outA = tmp.resolve("out-direct");
    Path outB = tmp.resolve("out-flink");

    Cli.batch(Cli.DIRECT, spec, fileA, outA, "--from=" + FROM, "--to=" + TO).assertExit(0);
    Cli.batch(Cli.FLINK_LOCAL, spec, fileB, outB, "--from=" + FROM, "--to=" + TO,
        "--parallelism=2").assertExit(0);

    Path versionA = Cli.versionDir(outA, FS, 1);
    Path versionB = Cli.versionDir(outB, FS, 1);
    SortedMap<String, String> parquetA = Cli.only(Cli.snapshot(versionA), Cli::isParquetPart);
    SortedMap<String, String> parquetB = Cli.only(Cli.snapshot(versionB), Cli::isParquetPart);
    List<String> partitions = parquetA.keySet().stream()
        .map(p -> p.substring(0, p.indexOf('/'))).distinct().collect(Collectors.toList());
    assertThat(partitions, equalTo(DATES.stream().map(d -> "as_of_date=" + d).collect(Collectors.toList())));
    for (String date : DATES) {
      List<String> rows = Cli.show(Cli.partitionDir(outA, FS, 1, date)).assertExit(0).outLines();
      assertThat("rows on " + date, rows.size() > 1, is(true));
      // The readable comparison first, so that a difference shows which rows differ.
      assertThat("rows on " + date,
          Cli.show(Cli.partitionDir(outB, FS, 1, date)).assertExit(0).outLines(), equalTo(rows));
    }
    // Same relative paths, same bytes: DirectRunner over A == Flink (parallelism 2) over shuffled B.
    assertThat(parquetB, equalTo(parquetA));

    // Both runs account for every record the same way (GeneratorConfig's exact counts: 3000
    // events + 60 duplicate lines, 30 of them exact copies; 30 malformed events).
    JsonNode countsA = Cli.readJson(Cli.runDir(outA, FS, 1, FROM, TO).resolve("report.json")).path("counts");
    JsonNode countsB = Cli.readJson(Cli.runDir(outB, FS, 1, FROM, TO).resolve("report.json")).path("counts");
    assertThat(countsA.toString(), countsA.path("read").asLong(), is(3060L));
    assertThat(countsA.toString(), countsA.path("quarantined").asLong(), is(30L));
    assertThat(countsA.toString(), countsA.path("duplicates_exact").asLong(), is(30L));
    assertThat(countsA.toString(), countsA.path("duplicates_conflicting").asLong(), is(30L));
    assertThat(countsA.toString(), countsA.path("read").asLong(),
        is(countsA.path("valid").asLong() + countsA.path("duplicates").asLong()
            + countsA.path("quarantined").asLong() + countsA.path("out_of_range").asLong()
            + countsA.path("blank").asLong()));
    assertThat("Flink's counts vs the DirectRunner's", countsB, equalTo(countsA));

    // Rerun on the DirectRunner into the first root: every file under the version folder keeps its
    // bytes (the run report aside, which holds durations), and no staging or trash is left.
    SortedMap<String, String> before = Cli.snapshot(versionA);
    Path runDir = Cli.runDir(outA, FS, 1, FROM, TO);
    String quarantineBefore = Files.readString(runDir.resolve("quarantine.jsonl"));
    String reportBefore = withoutDurations(runDir.resolve("report.json"));
    assertThat(Cli.readJsonLines(runDir.resolve("quarantine.jsonl")), hasSize(30));

    Cli.batch(Cli.DIRECT, spec, fileA, outA, "--from=" + FROM, "--to=" + TO).assertExit(0);

    SortedMap<String, String> after = Cli.snapshot(versionA);
    assertThat("same set of files and folders", after.keySet(), equalTo(before.keySet()));
    String report = "_runs/" + FROM + "_" + TO + "/report.json";
    before.remove(report);
    after.remove(report);
    assertThat(after, equalTo(before));
    assertThat(Files.readString(runDir.resolve("quarantine.jsonl")), equalTo(quarantineBefore));
    // The report differs in its durations only, down to the order of every object's keys.
    assertThat(withoutDurations(runDir.resolve("report.json")), equalTo(reportBefore));
    List<String> stray = after.keySet().stream()
        .filter(p -> p.contains("_staging") || p.contains("_trash") || p.contains(".tmp")
            || p.contains("_outcomes"))
        .collect(Collectors.toList());
    assertThat(stray, empty());
    // Only partitions, their files, and the run folder: nothing else under the version folder.
    assertThat(after.keySet(), everyItem(org.hamcrest.Matchers.anyOf(
        org.hamcrest.Matchers.startsWith("as_of_date="),
        org.hamcrest.Matchers.startsWith("_runs"),
        org.hamcrest.Matchers.equalTo("_LOCK"))));
  }

  /** The report's text as written, its durations left out. */
  private static String withoutDurations(Path report) throws IOException {
    ObjectNode json = (ObjectNode) Cli.readJson(report);
    json.remove("durations_ms");
    return json.toString();
  }
}
