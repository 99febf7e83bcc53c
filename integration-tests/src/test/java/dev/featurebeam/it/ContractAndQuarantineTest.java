package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing lost and failing fast, through the command line: a contract break stops the run with one
 * line naming the field; record-level problems quarantine the record (reason + raw payload) and the
 * run report's counts add up; usage and spec errors exit 2.
 */
class ContractAndQuarantineTest {
  private static final String FS = "user_features";
  private static final String HEADER = "event_id,user_id,event_type,amount,status,category,ts";

  @Test
  void headerWithoutARequiredFieldStopsTheRunNamingTheField(@TempDir Path tmp) throws IOException {
    Path csv = write(tmp.resolve("no_user_id.csv"),
        "event_id,event_type,amount,status,category,ts",
        "e1,purchase,12.50,success,books,2025-01-05T10:00:00Z",
        "e2,view,,,books,2025-01-06T10:00:00Z");
    Path out = tmp.resolve("out");

    Cli.Result r = Cli.batch(Cli.DIRECT, Cli.fixture("user_features_no_rowcount.yaml"), csv, out,
        "--asOfDate=2025-01-10").assertExit(2);

    assertThat(r.describe(), r.errLines(), hasSize(1));
    assertThat(r.errLines().get(0), containsString("user_id"));
    assertThat("no partition is written", Cli.partitionFolders(out), empty());
  }

  @Test
  void malformedRecordsAreQuarantinedWithReasonAndPayloadAndCountsAddUp(@TempDir Path tmp)
      throws IOException {
    // Line numbers count the header as line 1; blank lines are records of their own.
    List<String> lines = List.of(
        HEADER,
        "", //                                                         2 blank
        "e01,u1,purchase,12.50,success,books,2025-01-05T10:00:00Z", //  3 valid
        "e02,u1,view,,,books,2025-01-06T10:00:00Z", //                  4 valid
        "e03,u2,purchase,abc,success,toys,2025-01-06T11:00:00Z", //     5 BAD_TYPE:amount
        "e04,,purchase,5.00,success,toys,2025-01-06T12:00:00Z", //      6 MISSING:user_id
        "e05,u3,cart,7.00,,games,2025-13-45T99:00", //                  7 BAD_TIMESTAMP:ts
        "e06,u3,cart,7.00,,games", //                                   8 short line: MALFORMED
        "e07,u2,view,,,toys,2025-01-07T09:00:00Z", //                   9 valid
        "e07,u2,view,,,toys,2025-01-07T09:00:00Z", //                  10 exact duplicate
        "   ", //                                                      11 blank
        "e08,u2,cart,-3.00,,toys,2025-01-07T10:00:00Z", //             12 OUT_OF_RANGE:amount
        "e09,u1,view,,,books,2025-01-20T10:00:00Z", //                 13 after the as-of time
        "e10,u3,view,,,games,2024-11-01T10:00:00Z", //                 14 valid: last/days_since_last read all history
        "e11,u3,cart,NaN,,games,2025-01-08T10:00:00Z", //              15 BAD_TYPE:amount
        "e12,u3,view,,,games,0000-01-01T00:00:00Z"); //                16 BAD_TIMESTAMP:ts (year 0)
    Path csv = write(tmp.resolve("bad_records.csv"), lines.toArray(new String[0]));
    Path out = tmp.resolve("out");

    Cli.Result run = Cli.batch(Cli.DIRECT, Cli.fixture("user_features_no_rowcount.yaml"), csv, out,
        "--asOfDate=2025-01-10").assertExit(0);
    assertThat(run.describe(), run.outLines(), hasItem(matchesPattern("\\s*blank lines\\s+2")));

    Path runDir = Cli.runDir(out, FS, 1, "2025-01-10", "2025-01-10");
    List<JsonNode> quarantined = Cli.readJsonLines(runDir.resolve("quarantine.jsonl"));
    Map<Integer, String> expected = new TreeMap<>(Map.of(
        5, "BAD_TYPE:amount",
        6, "MISSING:user_id",
        7, "BAD_TIMESTAMP:ts",
        8, "MALFORMED",
        12, "OUT_OF_RANGE:amount",
        15, "BAD_TYPE:amount",
        16, "BAD_TIMESTAMP:ts"));
    assertThat(quarantined.toString(), quarantined, hasSize(expected.size()));
    Map<Integer, String> actual = new TreeMap<>();
    for (JsonNode q : quarantined) {
      String source = q.path("source").asText();
      int line = Integer.parseInt(source.substring(source.lastIndexOf(':') + 1));
      assertThat(q.toString(), source, endsWith("bad_records.csv:" + line));
      assertThat(q.toString(), q.path("payload").asText(), equalTo(lines.get(line - 1)));
      assertThat(q.toString(), q.path("detail").asText(), not(equalTo("")));
      actual.put(line, q.path("reason").asText());
    }
    assertThat(actual, equalTo(expected));

    JsonNode report = Cli.readJson(runDir.resolve("report.json"));
    JsonNode counts = report.path("counts");
    assertThat(report.toString(), counts.path("read").asLong(), is(15L));
    assertThat(report.toString(), counts.path("valid").asLong(), is(4L));
    assertThat(report.toString(), counts.path("duplicates").asLong(), is(1L));
    assertThat(report.toString(), counts.path("duplicates_exact").asLong(), is(1L));
    assertThat(report.toString(), counts.path("quarantined").asLong(), is(7L));
    assertThat(report.toString(), counts.path("out_of_range").asLong(), is(1L));
    assertThat(report.toString(), counts.path("blank").asLong(), is(2L));
    assertThat(report.toString(), counts.path("read").asLong(),
        is(counts.path("valid").asLong() + counts.path("duplicates").asLong()
            + counts.path("quarantined").asLong() + counts.path("out_of_range").asLong()
            + counts.path("blank").asLong()));
    assertThat(report.toString(), report.path("identity").asText(),
        is("read 15 = valid 4 + duplicates 1 + quarantined 7 + out_of_range 1 + blank 2"));
    assertThat(report.toString(), report.path("identity_holds").asBoolean(false), is(true));

    Map<String, Long> reasons = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = report.path("quarantine_reasons").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      reasons.put(e.getKey(), e.getValue().asLong());
    }
    Map<String, Long> tally = new TreeMap<>();
    expected.values().forEach(reason -> tally.merge(reason, 1L, Long::sum));
    assertThat(reasons, equalTo(tally));

    // The good records still make a partition: u1 and u2 (u3's one valid event is older than every
    // window, so it gives u3 no row).
    List<String> shown = Cli.show(Cli.partitionDir(out, FS, 1, "2025-01-10")).assertExit(0).outLines();
    List<String> entities = new ArrayList<>();
    shown.subList(1, shown.size()).forEach(l -> entities.add(l.substring(0, l.indexOf(','))));
    assertThat(shown.toString(), entities, equalTo(List.of("u1", "u2")));
  }

  @Test
  void unknownAggregationIsASpecErrorNamingTheFeature(@TempDir Path tmp) throws IOException {
    Path spec = write(tmp.resolve("bad_spec.yaml"),
        "feature_set: txn_features",
        "version: 1",
        "entity: user_id",
        "timestamp: event_ts",
        "source_schema:",
        "  user_id:  {type: string, required: true}",
        "  event_ts: {type: timestamp, required: true}",
        "  amount:   {type: double, min: 0}",
        "  status:   {type: string}",
        "features:",
        "  - {name: avg_txn_amount_7d, agg: avg, field: amount, window: 7d}",
        "  - {name: median_amount_7d, agg: median, field: amount, window: 7d}");
    Path out = tmp.resolve("out");

    Cli.Result r = Cli.batch(Cli.DIRECT, spec, Cli.fixture("ex1_transactions.csv"), out,
        "--asOfDate=2025-01-10").assertExit(2);

    assertThat(r.describe(), r.errLines(), hasSize(1));
    assertThat(r.errLines().get(0), allOf(containsString("median_amount_7d"), containsString("median")));
    assertThat(Cli.partitionFolders(out), empty());
  }

  @Test
  void unknownCommandIsAUsageError() {
    Cli.Result r = Cli.run("frobnicate", "--spec=x.yaml").assertExit(2);
    assertThat(r.describe(), r.errLines().get(0), containsString("frobnicate"));
    assertThat(r.out(), equalTo(""));
  }

  @Test
  void asOfDateThatIsNotADateIsAUsageError(@TempDir Path tmp) throws IOException {
    for (String bad : List.of("2025-02-30", "10/01/2025", "yesterday")) {
      Path out = tmp.resolve("out-" + bad.replace('/', '_'));
      Cli.Result r = Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
          Cli.fixture("ex1_transactions.csv"), out, "--asOfDate=" + bad).assertExit(2);
      assertThat(r.describe(), r.errLines(), hasSize(1));
      assertThat(r.errLines().get(0), allOf(containsString("asOfDate"), containsString(bad)));
      assertThat(Cli.partitionFolders(out), empty());
    }
  }

  @Test
  void aNegativeFilePartSizeIsAUsageError(@TempDir Path tmp) throws IOException {
    Path out = tmp.resolve("out");
    Cli.Result r = Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
        Cli.fixture("ex1_transactions.csv"), out, "--asOfDate=2025-01-10",
        "--filePartMegabytes=-1").assertExit(2);
    assertThat(r.describe(), r.errLines(), hasSize(1));
    assertThat(r.errLines().get(0), containsString("--filePartMegabytes"));
    assertThat(Cli.partitionFolders(out), empty());
  }

  @Test
  void showOfAFolderThatIsNotThereIsAUsageError(@TempDir Path tmp) {
    Cli.Result r = Cli.show(tmp.resolve("nope/as_of_date=2025-01-10")).assertExit(2);
    assertThat(r.describe(), r.errLines(), hasSize(1));
  }

  private static Path write(Path file, String... lines) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, List.of(lines), StandardCharsets.UTF_8);
    return file;
  }
}
