package dev.featurebeam.benchmarks;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.featurebeam.pipelines.FeatureBeamCli;
import dev.featurebeam.pipelines.generate.EventGenerator;
import dev.featurebeam.pipelines.generate.GeneratorConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FeatureBeam (in process, Flink's local mode), DuckDbFeatures and PlainJavaFeatures give the same
 * rows, bit for bit, on hand-made edge cases and on generated events.
 */
class AgreementTest {
  static final Path EDGE = Path.of("src/test/resources/edge_events.csv");

  @TempDir Path tmp;

  /** Runs all three and compares; returns the plain Java rows keyed "user|date". */
  private Map<String, String> runAll(Path source, LocalDate from, LocalDate to) throws Exception {
    Path fb = tmp.resolve("fb");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = FeatureBeamCli.run(new String[] {"batch", "--spec=" + BenchSpecTest.SPEC,
        "--source=file:" + source.toAbsolutePath(), "--out=" + fb, "--from=" + from, "--to=" + to,
        "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2", "--progress=false"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8), exit, is(0));

    Path duck = tmp.resolve("duck.csv");
    Path plain = tmp.resolve("plain.csv");
    PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    DuckDbFeatures.run(source, duck, from, to, null, null, log);
    PlainJavaFeatures.run(source, plain, from, to, log);

    ByteArrayOutputStream report = new ByteArrayOutputStream();
    CompareOutputs.Result r = CompareOutputs.compare(
        List.of(new String[] {"featurebeam", fb.toString()}, new String[] {"duckdb", duck.toString()},
            new String[] {"plain-java", plain.toString()}),
        from, to, 1e-9, 20, new PrintStream(report, true, StandardCharsets.UTF_8));
    String text = report.toString(StandardCharsets.UTF_8);
    assertThat(text, r.agree, is(true));
    for (CompareOutputs.Tally t : r.tallies) {
      assertThat(text, t.amountsExact, is(t.amountsNonNull)); // bit-identical, not just close
      assertThat(text, t.common > 0, is(true));
    }

    Map<String, String> rows = new HashMap<>();
    List<String> lines = Files.readAllLines(plain, StandardCharsets.UTF_8);
    assertThat(lines.get(0), is(BenchSpec.header()));
    for (String line : lines.subList(1, lines.size())) {
      List<String> v = new ArrayList<>();
      CsvLines.split(line, v);
      rows.put(v.get(0) + "|" + v.get(1), String.join(",", v.subList(2, v.size())));
    }
    return rows;
  }

  @Test
  void edgeCasesAgreeAndAreRight() throws Exception {
    Map<String, String> rows = runAll(EDGE, LocalDate.parse("2025-03-01"), LocalDate.parse("2025-03-10"));
    // Columns: purchases_7d, amount_30d, events_24h, active_24h, events_total, days_since_last.
    // a1: a tie on ts; "12.5" < "9.99" as canonical text. a2: a tie broken by category.
    // i2 (1900-01-01T00:00:00Z) is in every events_total of ua; i1 (1899) and i3 (2263) are not.
    assertThat(rows.get("ua|2025-03-01"), is("2,17.5,2,true,3,0"));
    // a3: the earlier copy (70.25) wins; a4: the negative copy is quarantined, 3.10 stays;
    // a5: 00:00+05:30 is the day before in UTC.
    assertThat(rows.get("ua|2025-03-02"), is("5,90.95,3,true,6,0"));
    // -08:00, epoch millis, a space for T, one fraction digit, nine fraction digits, a bare date,
    // lower-case z: seven events on 03-03.
    assertThat(rows.get("ua|2025-03-03"), is("12,94.45,7,true,13,0"));
    // " 1e1 " is 10; an empty amount counts as a purchase, adds nothing; "Purchase" and "failed"
    // are no purchases.
    assertThat(rows.get("ua|2025-03-04"), is("15,104.45,5,true,18,0"));
    // Old history counts in events_total only; an event at 03-11 00:00 is after the last T.
    assertThat(rows.get("uc|2025-03-01"), is("0,,1,true,3,1"));
    assertThat(rows.get("uc|2025-03-10"), is("0,,1,true,4,0"));
    // 23:59:59.999 on 02-28 is in the 7-day window of 03-06, not of 03-07.
    assertThat(rows.get("u,d|2025-03-06"), is("1,0.01,0,false,2,6"));
    assertThat(rows.get("u,d|2025-03-07"), is("0,0.01,0,false,2,7"));
    // f1: the same id for two users at the same time: "uf" < "ug".
    assertThat(rows, hasKey("uf|2025-03-08"));
    assertThat(rows, not(hasKey("ug|2025-03-08")));
    // g1: three exact copies (Z, .000Z, epoch millis name the same instant).
    assertThat(rows.get("uh|2025-03-07"), is("1,1.1,1,true,1,0"));
    // ui: last event 02-05 10:00: present while it is in the 30-day window (through 03-06).
    assertThat(rows.get("ui|2025-03-01"), is("0,,0,false,2,24"));
    assertThat(rows, hasKey("ui|2025-03-06"));
    assertThat(rows, not(hasKey("ui|2025-03-07")));
    assertThat(rows.get("uë|2025-03-06"), is("3,0.6,3,true,3,0")); // 0.1 + 0.2 + 0.3 rounded once
    assertThat(rows.size(), is(50));
  }

  @Test
  void generatedEventsAgree() throws Exception {
    Path events = tmp.resolve("events.csv");
    EventGenerator.write(GeneratorConfig.builder().seed(5).events(20_000).users(400).days(60)
        .duplicateFraction(0.02).malformedFraction(0.01).build(), events);
    Map<String, String> rows = runAll(events, LocalDate.parse("2025-01-31"), LocalDate.parse("2025-03-01"));
    assertThat(rows.size() > 5_000, is(true));
  }
}
