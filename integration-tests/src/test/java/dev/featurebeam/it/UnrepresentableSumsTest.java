package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sum of valid values that its column cannot hold is never published: an int64 sum past the
 * int64 range and a double sum past the double range fail their partition (exit 3, the feature,
 * the entity and the reason named), and the partition published before stays as it was.
 */
class UnrepresentableSumsTest {
  private static final String SPEC = String.join("\n",
      "feature_set: totals",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  points: {type: long}",
      "  amount: {type: double}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: points_7d, agg: sum, field: points, window: 7d}",
      "  - {name: amount_7d, agg: sum, field: amount, window: 7d}",
      "");

  @Test
  void overflowAndInfinityFailTheirPartitionOnFlink(@TempDir Path tmp) throws Exception {
    Path spec = Files.writeString(tmp.resolve("totals.yaml"), SPEC);
    Path good = write(tmp.resolve("good.csv"),
        "u1,9223372036854775806,1.5e308,2025-01-05T10:00:00Z",
        "u2,7,2.5,2025-01-05T11:00:00Z");
    Path out = tmp.resolve("out");
    Cli.batch(Cli.FLINK_LOCAL, spec, good, out, "--asOfDate=2025-01-05").assertExit(0);
    Path partition = Cli.partitionDir(out, "totals", 1, "2025-01-05");
    SortedMap<String, String> published = Cli.snapshot(partition);

    Path overflowing = write(tmp.resolve("bad.csv"),
        "u1,9223372036854775806,1.5e308,2025-01-05T10:00:00Z",
        "u1,2,1.5e308,2025-01-05T10:30:00Z",
        "u2,7,2.5,2025-01-05T11:00:00Z");
    Cli.Result r = Cli.batch(Cli.FLINK_LOCAL, spec, overflowing, out, "--asOfDate=2025-01-05")
        .assertExit(3);
    assertThat(r.describe(), r.errLines(), hasItem(allOf(
        containsString("check values_representable failed on as_of_date=2025-01-05"),
        containsString("u1 points_7d: int64 sum overflows: 9223372036854775808 is outside"),
        containsString("u1 amount_7d: double sum is not finite"))));
    assertThat(Cli.snapshot(partition), equalTo(published));
  }

  private static Path write(Path file, String... lines) throws Exception {
    Files.write(file, List.of(java.util.stream.Stream.concat(
        java.util.stream.Stream.of("user_id,points,amount,ts"), java.util.stream.Stream.of(lines))
        .toArray(String[]::new)), StandardCharsets.UTF_8);
    return file;
  }
}
