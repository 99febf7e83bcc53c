package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import dev.featurebeam.io.sink.StoreFaults;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two runs into the same store at once, as two processes, with different inputs and overlapping
 * ranges: the second waits for the first and then publishes, a third with --noWait stops at once,
 * and afterwards the store holds, for each date, exactly the partition the report of the last run
 * that published it names.
 */
class ConcurrentRunsTest {
  private static final String FS = "user_features";

  @TempDir Path tmp;

  @Test
  void aSecondRunWaitsAndTheStoreIsWhatTheReportsSay() throws Exception {
    Path spec = Cli.fixture("user_features_no_rowcount.yaml");
    Path a = Cli.generate(tmp.resolve("a.csv"), Map.of("seed", "5", "events", "800",
        "users", "40", "days", "14", "startDate", "2025-01-01"));
    Path b = Cli.generate(tmp.resolve("b.csv"), Map.of("seed", "6", "events", "1000",
        "users", "50", "days", "14", "startDate", "2025-01-01"));
    Path out = tmp.resolve("out");

    // The first run holds the lock for a while once it has it.
    Child first = Child.start(tmp.resolve("a"),
        Map.of(StoreFaults.PROPERTY, StoreFaults.AFTER_LOCK + ":pause=6000"),
        Cli.batchArgs(Cli.DIRECT, spec, a, out, "--from=2025-01-09", "--to=2025-01-11"));
    first.awaitErr("fault injected: pause", 120);
    Child second = Child.start(tmp.resolve("b"), Map.of(),
        Cli.batchArgs(Cli.DIRECT, spec, b, out, "--from=2025-01-10", "--to=2025-01-12"));
    second.awaitErr("waiting for another run that writes", 120);
    assertThat(second.errSoFar(), containsString("(pid " + first.pid() + " "));

    Cli.Result refused = Child.start(tmp.resolve("c"), Map.of(),
            Cli.batchArgs(Cli.DIRECT, spec, a, out, "--asOfDate=2025-01-12", "--noWait"))
        .await(120);
    assertThat(refused.describe(), refused.exit(), is(2));
    assertThat(refused.describe(), refused.errLines(), hasSize(1));
    assertThat(refused.err(), containsString("is being written by another run (pid "));
    assertThat(refused.err(), containsString("without --noWait"));

    first.await(180).assertExit(0);
    Cli.Result last = second.await(180).assertExit(0);
    assertThat(last.err(), containsString("taken after"));

    // Dates in the store, by the run that published each last: the first, then the second.
    Map<String, String> claimed = new HashMap<>();
    for (String range : List.of("2025-01-09_2025-01-11", "2025-01-10_2025-01-12")) {
      JsonNode report = Cli.readJson(Cli.versionDir(out, FS, 1).resolve("_runs/" + range)
          .resolve("report.json"));
      assertThat(report.toString(), report.get("identity_holds").asBoolean(), is(true));
      for (JsonNode p : report.get("partitions")) {
        assertThat(p.toString(), p.get("published").asBoolean(), is(true));
        claimed.put(p.get("as_of_date").asText(), p.get("manifest_sha256").asText());
      }
    }
    assertThat(claimed.keySet(), hasSize(4));
    for (Map.Entry<String, String> e : claimed.entrySet()) {
      Path partition = Cli.partitionDir(out, FS, 1, e.getKey());
      Cli.assertReadable(partition);
      assertThat(e.getKey(), Cli.sha256(partition.resolve("_MANIFEST.json")), is(e.getValue()));
    }
  }
}
