package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.io.sink.StoreFaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run that fails (here: its quarantine cannot be written) exits 1, removes everything it
 * staged, and leaves the store and the run folder of its range exactly as the last finished run
 * left them: never a mix of two runs' report and quarantine.
 */
class FailedRunTest {
  private static final String FS = "user_features";

  @TempDir Path tmp;

  @AfterEach
  void noFaults() {
    System.clearProperty(StoreFaults.PROPERTY);
  }

  @Test
  void aFailedRunLeavesNoStagingAndTheLastRunFolderWhole() throws Exception {
    Path spec = Cli.fixture("user_features_no_rowcount.yaml");
    Path first = Cli.generate(tmp.resolve("a.csv"), Map.of("seed", "8", "events", "600",
        "users", "30", "days", "12", "startDate", "2025-01-01", "malformedFraction", "0.05"));
    Path second = Cli.generate(tmp.resolve("b.csv"), Map.of("seed", "9", "events", "700",
        "users", "30", "days", "12", "startDate", "2025-01-01", "malformedFraction", "0.05"));
    Path out = tmp.resolve("out");
    Cli.batch(Cli.DIRECT, spec, first, out, "--from=2025-01-09", "--to=2025-01-10").assertExit(0);
    Path version = Cli.versionDir(out, FS, 1);
    SortedMap<String, String> runFolder =
        Cli.snapshot(Cli.runDir(out, FS, 1, "2025-01-09", "2025-01-10"));

    System.setProperty(StoreFaults.PROPERTY, StoreFaults.AFTER_QUARANTINE_RUNS + ":throw");
    Cli.Result failed =
        Cli.batch(Cli.DIRECT, spec, second, out, "--from=2025-01-09", "--to=2025-01-10");
    assertThat(failed.describe(), failed.exit(), is(1));
    assertThat(failed.err(), containsString("fault injected at " + StoreFaults.AFTER_QUARANTINE_RUNS));

    assertThat(Files.exists(version.resolve("_staging")), is(false));
    assertThat(Cli.snapshot(Cli.runDir(out, FS, 1, "2025-01-09", "2025-01-10")),
        equalTo(runFolder));
    Cli.assertReadable(Cli.partitionDir(out, FS, 1, "2025-01-09"));
    Cli.assertReadable(Cli.partitionDir(out, FS, 1, "2025-01-10"));
  }
}
