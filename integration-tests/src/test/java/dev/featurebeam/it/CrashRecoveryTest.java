package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.io.sink.FolderSwap;
import dev.featurebeam.io.sink.StoreFaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A run killed at each step of publishing (the child JVM halts there, as kill -9 would): every
 * partition the store then holds is whole and matches its manifest, and the next run, of another
 * range, repairs what the crash left, so that the store again holds every partition.
 */
class CrashRecoveryTest {
  private static final String FS = "user_features";
  private static final List<String> DATES = List.of("2025-01-09", "2025-01-10", "2025-01-11");
  private static final String CRASH_DATE = "2025-01-10";

  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} swap, killed at {1}")
  @CsvSource({
      "exchange, " + StoreFaults.AFTER_MANIFEST + ", true",
      "exchange, " + StoreFaults.AFTER_EXCHANGE + ", true",
      "exchange, " + StoreFaults.AFTER_CLEANUP + ", true",
      "rename, " + StoreFaults.AFTER_MANIFEST + ", true",
      "rename, " + StoreFaults.AFTER_ASIDE + ", true",
      "rename, " + StoreFaults.AFTER_MOVE_IN + ", true",
      "exchange, " + StoreFaults.AFTER_QUARANTINE_RUNS + ", false",
      "exchange, " + StoreFaults.AFTER_PIPELINE + ", false",
      "exchange, " + StoreFaults.AFTER_REPORT + ", false"})
  void aCrashAtAnyStepLeavesEveryPartitionReadableAndTheNextRunRepairsTheStore(
      String swap, String step, boolean perDate) throws Exception {
    Path spec = Cli.fixture("user_features_no_rowcount.yaml");
    Path first = Cli.generate(tmp.resolve("a.csv"), Map.of("seed", "3", "events", "600",
        "users", "40", "days", "12", "startDate", "2025-01-01"));
    Path second = Cli.generate(tmp.resolve("b.csv"), Map.of("seed", "4", "events", "900",
        "users", "50", "days", "12", "startDate", "2025-01-01"));
    Path out = tmp.resolve("out");
    Path version = Cli.versionDir(out, FS, 1);
    Cli.batch(Cli.DIRECT, spec, first, out, "--from=2025-01-09", "--to=2025-01-11").assertExit(0);
    SortedMap<String, String> before = Cli.snapshot(version);

    Cli.Result crashed = Child.start(tmp.resolve("child"),
            Map.of(FolderSwap.PROPERTY, swap,
                StoreFaults.PROPERTY, step + (perDate ? "@" + CRASH_DATE : "") + ":halt"),
            Cli.batchArgs(Cli.DIRECT, spec, second, out, "--from=2025-01-09", "--to=2025-01-11"))
        .await(180);
    assertThat(crashed.describe(), crashed.exit(), is(137));
    assertThat(crashed.err(), containsString("fault injected: halt at " + step));

    // Right after the crash: whatever partition is there is whole. Only the two-rename swap,
    // killed between its renames, leaves a partition out of place until the next run: the crash
    // date at after-aside, and any date whose own swap another worker thread was in the middle
    // of when the JVM halted; its old copy is then whole in the staging's trash.
    for (String date : DATES) {
      Path partition = Cli.partitionDir(out, FS, 1, date);
      boolean mustBeAside = step.equals(StoreFaults.AFTER_ASIDE) && date.equals(CRASH_DATE);
      boolean inPlace = Files.isDirectory(partition);
      if (mustBeAside || (!inPlace && swap.equals("rename"))) {
        assertThat(partition + " is in place", inPlace, is(false));
        Cli.assertReadable(aside(version, date));
      } else {
        assertThat(partition + " is in place", inPlace, is(true));
        Cli.assertReadable(partition);
      }
    }

    // The next run, of a range the crashed run never touched, repairs the whole store.
    Cli.batch(Cli.DIRECT, spec, first, out, "--asOfDate=2025-01-20").assertExit(0);
    assertThat(Files.exists(version.resolve("_staging")), is(false));
    for (String date : DATES) {
      assertThat(Cli.assertReadable(Cli.partitionDir(out, FS, 1, date)) > 0, is(true));
    }
    if (step.equals(StoreFaults.AFTER_ASIDE)) {
      // The partition moved aside is the old one again, byte for byte.
      String p = "as_of_date=" + CRASH_DATE;
      assertThat(Cli.only(Cli.snapshot(version), k -> k.startsWith(p)),
          equalTo(Cli.only(before, k -> k.startsWith(p))));
    }
    // The crashed range's run folder is whole: the last finished run's report and quarantine.
    Path runFolder = Cli.runDir(out, FS, 1, "2025-01-09", "2025-01-11");
    assertThat(Cli.only(Cli.snapshot(runFolder), k -> true).keySet(),
        equalTo(Cli.only(before, k -> k.startsWith("_runs/2025-01-09_2025-01-11/")).keySet()
            .stream().map(k -> k.substring("_runs/2025-01-09_2025-01-11/".length()))
            .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new))));
  }

  /** The one copy of the date's partition a two-rename swap moved aside under _staging. */
  private static Path aside(Path version, String date) throws java.io.IOException {
    try (java.util.stream.Stream<Path> all = Files.walk(version.resolve("_staging"))) {
      List<Path> found = all.filter(Files::isDirectory)
          .filter(d -> d.getFileName().toString().equals("as_of_date=" + date))
          .filter(d -> d.getParent().getFileName().toString().equals("_trash"))
          .collect(java.util.stream.Collectors.toList());
      assertThat("the moved-aside copy of " + date + ": " + found, found.size(), is(1));
      return found.get(0);
    }
  }
}
