package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worked examples of the seed exercises, end to end: {@code batch} over the fixture, then
 * {@code show} of the partition must print exactly the expected CSV (header and rows, in order).
 */
class WorkedExamplesTest {

  @Test
  void ex1AverageTransactionAmountOnTheDirectRunner(@TempDir Path out) throws IOException {
    runEx1(Cli.DIRECT, out);
  }

  @Test
  void ex1AverageTransactionAmountOnFlinkLocal(@TempDir Path out) throws IOException {
    runEx1(Cli.FLINK_LOCAL, out);
  }

  @Test
  void ex2SupportTicketsAsOfStartOfDayOnTheDirectRunner(@TempDir Path out) throws IOException {
    Cli.batch(Cli.DIRECT, Cli.fixture("ex2_spec.yaml"), Cli.fixture("ex2_support_tickets.csv"), out,
            "--asOfDate=2025-03-01")
        .assertExit(0);
    assertShows(Cli.partitionDir(out, "support_features", 1, "2025-03-01"), "ex2_expected.csv");
  }

  private static void runEx1(String runner, Path out) throws IOException {
    Cli.Result batch = Cli.batch(runner, Cli.fixture("ex1_spec.yaml"),
        Cli.fixture("ex1_transactions.csv"), out, "--asOfDate=2025-01-10").assertExit(0);
    assertThat(batch.describe(), batch.errLines(), is(List.of()));
    assertShows(Cli.partitionDir(out, "txn_features", 1, "2025-01-10"), "ex1_expected.csv");
  }

  /** {@code show DIR} prints exactly the expected file's lines. */
  private static void assertShows(Path partition, String expectedCsv) throws IOException {
    assertThat("published partition " + partition,
        Files.isRegularFile(partition.resolve("_MANIFEST.json")), is(true));
    Cli.Result show = Cli.show(partition).assertExit(0);
    List<String> expected = lines(Files.readString(Cli.fixture(expectedCsv), StandardCharsets.UTF_8));
    assertThat(show.describe(), lines(show.out()), equalTo(expected));
  }

  /** The text's lines, after trimming the trailing newline(s). */
  private static List<String> lines(String text) {
    return text.stripTrailing().lines().collect(Collectors.toList());
  }
}
