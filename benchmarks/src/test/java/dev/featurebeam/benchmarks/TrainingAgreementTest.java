package dev.featurebeam.benchmarks;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.pipelines.FeatureBeamCli;
import dev.featurebeam.pipelines.generate.EventGenerator;
import dev.featurebeam.pipelines.generate.GeneratorConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exact training set: FeatureBeam's {@code training-set} (in process, Flink's local mode),
 * DuckDbTrainingSet and a plain scan (every event of the entity looked at for every spine row,
 * sums with BigDecimal) give the same rows, bit for bit, on 20,000 generated events and a
 * SpineGen spine of 5,000 rows. The spine puts rows at an event's time, 1 ms after it, and exactly
 * one window length (and 1 ms more) after it, so a frame off by one millisecond at either edge of
 * any window changes rows: the plain scan with each such error is checked to disagree.
 */
class TrainingAgreementTest {
  static final LocalDate FROM = LocalDate.parse("2025-01-31");
  static final LocalDate TO = LocalDate.parse("2025-04-30");

  @TempDir static Path tmp;
  static Path events;
  static Path spine;
  static Path featureBeam;
  static Path duck;

  @BeforeAll
  static void run() throws Exception {
    events = tmp.resolve("events.csv");
    EventGenerator.write(GeneratorConfig.builder().seed(7).events(20_000).users(400).days(120)
        .duplicateFraction(0.02).malformedFraction(0.01).build(), events);
    spine = tmp.resolve("spine.csv");
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    SpineGen.write(400, 5_000, 11, FROM, TO, events, spine, quiet);

    featureBeam = tmp.resolve("fb.parquet");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = FeatureBeamCli.run(new String[] {"training-set", "--spec=" + BenchSpecTest.SPEC,
        "--source=file:" + events.toAbsolutePath(), "--spine=" + spine, "--out=" + featureBeam,
        "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"},
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8), exit, is(0));

    duck = tmp.resolve("duck.parquet");
    DuckDbTrainingSet.run(events, spine, "timestamp", duck, "2", null, quiet);
  }

  @Test
  void featureBeamAndDuckDbGiveTheSameRowsInTheSameOrder() throws IOException {
    ByteArrayOutputStream report = new ByteArrayOutputStream();
    CompareTrainingSets.Result r = CompareTrainingSets.compare("featurebeam", featureBeam, "duckdb",
        duck, 20, new PrintStream(report, true, StandardCharsets.UTF_8));
    String text = report.toString(StandardCharsets.UTF_8);
    assertThat(text, r.agree(), is(true));
    assertThat(text, r.refRows(), is(5_000L)); // one row per spine row, copies included
    assertThat(text, r.amountsNonNull(), greaterThan(1_000L));
    assertThat(text, r.amountsExact(), is(r.amountsNonNull()));
  }

  @Test
  void thePlainScanAgreesAndAnEdgeOffByOneMillisecondWouldNot() throws IOException {
    List<PlainJavaFeatures.CleanEvent> clean = PlainJavaFeatures.cleanEvents(events);
    List<String[]> spineRows = readSpine(spine);
    List<String> fb = sortedRows(featureBeam);
    List<String> expected = PlainScan.rows(clean, spineRows, Edges.EXACT);
    assertThat(fb, is(expected));
    assertThat(sortedRows(duck), is(expected));

    // The data can tell: each one-millisecond error at either edge of each window changes rows.
    for (Edges wrong : Edges.offByOne()) {
      assertThat(wrong.toString(), PlainScan.rows(clean, spineRows, wrong), not(expected));
    }

    // And the spine has what it should: instants equal to a kept event's time, entities without
    // events (all zeros and nulls), and copies.
    Set<String> eventKeys = new HashSet<>();
    for (PlainJavaFeatures.CleanEvent e : clean) {
      eventKeys.add(e.user() + "|" + e.ms());
    }
    long atEvent = 0;
    Map<String, Integer> copies = new HashMap<>();
    for (String[] s : spineRows) {
      atEvent += eventKeys.contains(s[0] + "|" + Instant.parse(s[1]).toEpochMilli()) ? 1 : 0;
      copies.merge(String.join(",", s), 1, Integer::sum);
    }
    assertThat(atEvent, greaterThan(50L));
    assertThat(copies.values().stream().filter(n -> n > 1).count(), greaterThan(50L));
    assertThat(expected.stream().filter(r -> r.endsWith(",0,,0,false,0,")).count(), greaterThan(100L));
  }

  /** Where the frames start and end relative to the correct [T - L, T), in ms, per window. */
  record Edges(long start24h, long start7d, long start30d, long end) {
    static final Edges EXACT = new Edges(0, 0, 0, 0);

    static List<Edges> offByOne() {
      List<Edges> out = new ArrayList<>();
      for (long d : new long[] {-1, 1}) {
        out.add(new Edges(d, 0, 0, 0));
        out.add(new Edges(0, d, 0, 0));
        out.add(new Edges(0, 0, d, 0));
        out.add(new Edges(0, 0, 0, d));
      }
      return out;
    }
  }

  /** For each spine row, every event of its entity looked at once. */
  static final class PlainScan {
    private PlainScan() {}

    static List<String> rows(List<PlainJavaFeatures.CleanEvent> events, List<String[]> spine,
        Edges edges) {
      Map<String, List<PlainJavaFeatures.CleanEvent>> byUser = new HashMap<>();
      for (PlainJavaFeatures.CleanEvent e : events) {
        byUser.computeIfAbsent(e.user(), k -> new ArrayList<>()).add(e);
      }
      List<String> out = new ArrayList<>();
      for (String[] s : spine) {
        long t = Instant.parse(s[1]).toEpochMilli();
        long end = t + edges.end(); // events with ms < end are before T
        long purchases7d = 0;
        long amounts = 0;
        BigDecimal sum = BigDecimal.ZERO;
        long events24h = 0;
        long total = 0;
        Long last = null;
        for (PlainJavaFeatures.CleanEvent e : byUser.getOrDefault(s[0].strip(), List.of())) {
          if (e.ms() >= end) {
            continue;
          }
          total++;
          last = last == null ? e.ms() : Math.max(last, e.ms());
          if (e.ms() >= t - BenchSpec.DAY_MS + edges.start24h()) {
            events24h++;
          }
          if (e.purchaseSuccess() && e.ms() >= t - 7 * BenchSpec.DAY_MS + edges.start7d()) {
            purchases7d++;
          }
          if (e.purchaseSuccess() && !Double.isNaN(e.amount())
              && e.ms() >= t - 30 * BenchSpec.DAY_MS + edges.start30d()) {
            amounts++;
            sum = sum.add(new BigDecimal(e.amount())); // the double's exact value
          }
        }
        // Double.parseDouble rounds the exact decimal text correctly: the sum rounded once.
        String amount = amounts == 0 ? "" : Double.toString(Double.parseDouble(sum.toString()));
        String days = last == null ? "" : Long.toString(Math.floorDiv(t - last, BenchSpec.DAY_MS));
        out.add(String.join(",", s) + "," + purchases7d + "," + amount + "," + events24h + ","
            + (events24h > 0) + "," + total + "," + days);
      }
      out.sort(null);
      return out;
    }
  }

  /** The spine's rows: user_id, timestamp, label as written. */
  static List<String[]> readSpine(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertThat(lines.get(0), is(SpineGen.HEADER));
    List<String[]> rows = new ArrayList<>();
    List<String> v = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      assertThat(line, CsvLines.split(line, v), is(true));
      rows.add(v.toArray(new String[0]));
    }
    return rows;
  }

  /** A training-set file's rows as text (nulls empty), sorted as text. */
  static List<String> sortedRows(Path file) {
    List<String> out = new ArrayList<>();
    for (GenericRecord r : PartitionReader.readFile(file)) {
      StringBuilder sb = new StringBuilder();
      for (int c = 0; c < r.getSchema().getFields().size(); c++) {
        Object v = r.get(c);
        sb.append(c > 0 ? "," : "").append(v == null ? "" : v.toString());
      }
      out.add(sb.toString());
    }
    out.sort(null);
    return out;
  }
}
