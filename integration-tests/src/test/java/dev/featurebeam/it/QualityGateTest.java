package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Idempotent publishing: a partition the quality gate rejects is not published, and the partition
 * published before stays exactly as it was; the command exits 3 naming the check and the date.
 */
class QualityGateTest {
  private static final String FS = "user_features";
  private static final String DATE = "2025-01-08";
  private static final String FAILING_CHECK = "event_count_30d between [1000000, 2000000]";

  @Test
  void rejectedRerunLeavesThePublishedPartitionInPlace(@TempDir Path tmp) throws Exception {
    // A handful of events: the DirectRunner is slow once a pipeline groups.
    Path events = tmp.resolve("events.csv");
    Files.write(events, List.of(
        "event_id,user_id,event_type,amount,status,category,ts",
        "e1,u1,purchase,12.50,success,books,2025-01-02T10:00:00Z",
        "e2,u1,view,,,books,2025-01-06T10:00:00Z",
        "e3,u2,cart,30.00,,toys,2025-01-07T11:00:00Z",
        "e4,u2,purchase,30.00,success,toys,2025-01-07T11:05:00Z",
        "e5,u3,support_ticket,,,games,2025-01-08T23:59:59Z",
        "e6,u3,view,,,games,2025-01-09T00:00:00Z"), StandardCharsets.UTF_8);
    Path passing = Cli.fixture("user_features_no_rowcount.yaml");
    // Same feature_set, version and features; one more check that no partition can pass.
    Path failing = tmp.resolve("user_features_failing.yaml");
    Files.writeString(failing, Files.readString(passing, StandardCharsets.UTF_8).stripTrailing()
        + "\n  - {column: event_count_30d, between: [1000000, 2000000]}\n", StandardCharsets.UTF_8);
    Path out = tmp.resolve("out");

    Cli.batch(Cli.DIRECT, passing, events, out, "--asOfDate=" + DATE).assertExit(0);
    Path partition = Cli.partitionDir(out, FS, 1, DATE);
    SortedMap<String, String> published = Cli.snapshot(partition);
    assertThat(published, hasKey("_MANIFEST.json"));
    assertThat(published.keySet().stream().anyMatch(Cli::isParquetPart), is(true));

    Cli.Result rejected = Cli.batch(Cli.DIRECT, failing, events, out, "--asOfDate=" + DATE).assertExit(3);

    List<String> err = rejected.errLines();
    assertThat(rejected.describe(), err, hasSize(1)); // one date, one failed check
    assertThat(rejected.describe(), err, hasItem(allOf(
        containsString(FAILING_CHECK), containsString("as_of_date=" + DATE))));
    // Only the failed check is reported; the checks that pass are not errors.
    assertThat(rejected.describe(), err, everyItem(containsString(FAILING_CHECK)));

    // The published partition is untouched: same files, same bytes.
    assertThat(Cli.snapshot(partition), equalTo(published));
    // And no staging or trash is left in the version folder.
    SortedMap<String, String> version = Cli.snapshot(Cli.versionDir(out, FS, 1));
    List<String> stray = version.keySet().stream()
        .filter(p -> p.contains("_staging") || p.contains("_trash") || p.contains(".tmp"))
        .collect(Collectors.toList());
    assertThat(stray, empty());
    assertThat(version.keySet().stream()
            .filter(p -> !p.startsWith("_runs") && !p.equals("_LOCK")).collect(Collectors.toList()),
        everyItem(startsWith("as_of_date=" + DATE)));
    // The lock file is left empty once released: it names no past run.
    assertThat(version.get("_LOCK"),
        is("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));

    // The run report says so too.
    JsonNode report = Cli.readJson(Cli.runDir(out, FS, 1, DATE, DATE).resolve("report.json"));
    JsonNode partitions = report.path("partitions");
    assertThat(report.toString(), partitions.size(), is(1));
    assertThat(report.toString(), partitions.get(0).path("as_of_date").asText(), equalTo(DATE));
    assertThat(report.toString(), partitions.get(0).path("published").asBoolean(true), is(false));

    // The partition still reads back.
    assertThat(Cli.show(partition).assertExit(0).outLines().size() > 1, is(true));
  }

  /** Many failed checks: the first ten, one line each, then how many more and where they are. */
  @Test
  void manyFailuresShowTheFirstTenAndACount(@TempDir Path tmp) throws Exception {
    Path events = Cli.generate(tmp.resolve("events.csv"), java.util.Map.of("seed", "12",
        "events", "500", "users", "20", "days", "14", "startDate", "2025-01-01"));
    Path failing = tmp.resolve("user_features_failing.yaml");
    Files.writeString(failing, Files.readString(Cli.fixture("user_features_no_rowcount.yaml"),
        StandardCharsets.UTF_8).stripTrailing()
        + "\n  - {column: event_count_30d, between: [1000000, 2000000]}\n", StandardCharsets.UTF_8);
    Path out = tmp.resolve("out");
    Cli.Result r = Cli.batch(Cli.DIRECT, failing, events, out, "--from=2025-01-02",
        "--to=2025-01-14").assertExit(3);
    List<String> err = r.errLines();
    assertThat(r.describe(), err.size(), is(11));
    for (int i = 0; i < 10; i++) {
      assertThat(err.get(i), allOf(containsString("featurebeam: quality gate: check " + FAILING_CHECK),
          containsString("as_of_date=2025-01-" + String.format("%02d", i + 2))));
    }
    assertThat(err.get(10), is("featurebeam: quality gate: and 3 more failed checks (all in "
        + Cli.runDir(out, FS, 1, "2025-01-02", "2025-01-14").resolve("report.json") + ")"));
  }
}
