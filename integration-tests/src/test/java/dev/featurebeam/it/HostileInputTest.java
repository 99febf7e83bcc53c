package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.anyOf;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * 100,000 lines of hostile CSV on each runner: the run finishes (exit 0, or 3 when a check
 * rejects a partition), the report accounts for every record and every blank line, and the
 * quarantine holds one line per quarantined record, huge ones kept in part.
 */
class HostileInputTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {Cli.DIRECT, Cli.FLINK_LOCAL})
  void hostileInputNeverCrashesARunAndEveryLineIsAccountedFor(String runner) throws Exception {
    HostileCsv.Written input = HostileCsv.write(tmp.resolve("hostile.csv"), 42, 100_000);
    Path out = tmp.resolve("out");
    Cli.Result r = Cli.batch(runner, Cli.fixture("user_features_no_rowcount.yaml"), input.file(),
        out, "--from=2025-01-08", "--to=2025-01-10");
    assertThat(r.describe(), r.exit(), anyOf(is(0), is(3)));

    Path runDir = Cli.runDir(out, "user_features", 1, "2025-01-08", "2025-01-10");
    JsonNode counts = Cli.readJson(runDir.resolve("report.json")).get("counts");
    assertThat(counts.toString(), counts.get("read").asLong(),
        is(input.records() + input.blankLines()));
    assertThat(counts.toString(), counts.get("blank").asLong(), is(input.blankLines()));
    assertThat(counts.toString(), counts.get("read").asLong(),
        is(counts.get("valid").asLong() + counts.get("duplicates").asLong()
            + counts.get("quarantined").asLong() + counts.get("out_of_range").asLong()
            + counts.get("blank").asLong()));
    assertThat(Cli.readJson(runDir.resolve("report.json")).get("identity_holds").asBoolean(),
        is(true));
    List<JsonNode> quarantined = Cli.readJsonLines(runDir.resolve("quarantine.jsonl"));
    assertThat((long) quarantined.size(), is(counts.get("quarantined").asLong()));
    assertThat(counts.get("valid").asLong(), greaterThan(30_000L));
    long truncated = quarantined.stream()
        .filter(q -> q.path("payload_truncated").asBoolean(false)).count();
    assertThat("the megabyte fields in quarantined records are kept in part", truncated,
        greaterThan(2L));
    for (JsonNode q : quarantined) {
      assertThat(q.get("source").asText() + " " + q.get("reason").asText() + " "
          + q.get("payload").asText().length(), q.get("payload").asText().length() <= 65_536,
          is(true));
    }
    // No line holds a megabyte: a kept payload and detail, even with every character escaped.
    for (String line : Files.readAllLines(runDir.resolve("quarantine.jsonl"), StandardCharsets.UTF_8)) {
      assertThat(line.length() <= 6 * (65_536 + 1_025) + 2_000, is(true));
    }
  }
}
