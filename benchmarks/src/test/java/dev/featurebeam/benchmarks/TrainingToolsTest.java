package dev.featurebeam.benchmarks;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SpineGen's spine and CompareTrainingSets' verdicts, on small files. */
class TrainingToolsTest {
  @TempDir Path tmp;

  private static final PrintStream QUIET =
      new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

  @Test
  void spineGenIsDeterministicAndDrawsFromTheGeneratorsIds() throws Exception {
    Path events = tmp.resolve("events.csv");
    Files.writeString(events, String.join("\n",
        "event_id,user_id,event_type,amount,status,category,ts",
        "e1,u00003,view,,,books,2025-02-10T10:00:00Z",
        "e2,u00007,purchase,1.5,success,books,2025-03-01T00:00:00.250Z",
        "e3,u00001,view,,,books,2024-12-01T00:00:00Z", // before the range: never an anchor
        ""));
    Path a = tmp.resolve("a.csv");
    Path b = tmp.resolve("b.csv");
    LocalDate from = LocalDate.parse("2025-01-31");
    LocalDate to = LocalDate.parse("2025-04-30");
    SpineGen.write(100, 3_000, 9, from, to, events, a, QUIET);
    SpineGen.write(100, 3_000, 9, from, to, events, b, QUIET);
    assertThat(Files.mismatch(a, b), is(-1L));

    List<String> lines = Files.readAllLines(a, StandardCharsets.UTF_8);
    assertThat(lines.get(0), is(SpineGen.HEADER));
    assertThat(lines.size(), is(3_001));
    long start = Instant.parse("2025-01-31T00:00:00Z").toEpochMilli();
    long end = Instant.parse("2025-05-01T00:00:00Z").toEpochMilli();
    Set<String> distinct = new HashSet<>();
    long absent = 0;
    long midnights = 0;
    long atEvent = 0;
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      assertThat(line, f.length, is(3));
      assertThat(line, f[0].matches("u[0-9]{5}"), is(true));
      assertThat(line, f[1].matches("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"), is(true));
      assertThat(line, f[2].matches("[01]"), is(true));
      long ms = Instant.parse(f[1]).toEpochMilli();
      // Here even an anchor plus 30 days stays in the range; the 2024 event is never an anchor.
      assertThat(line, ms >= start && ms < end, is(true));
      absent += Integer.parseInt(f[0].substring(1)) >= 100 ? 1 : 0;
      midnights += ms % BenchSpec.DAY_MS == 0 ? 1 : 0;
      atEvent += f[1].equals("2025-03-01T00:00:00.250Z") || f[1].equals("2025-02-10T10:00:00.000Z") ? 1 : 0;
      distinct.add(line);
    }
    assertThat(absent, greaterThan(50L)); // ids beyond the population: no events
    assertThat(midnights, greaterThan(200L));
    assertThat(atEvent, greaterThan(20L)); // anchored at the event's own time (offset 0)
    assertThat(3_000 - distinct.size(), greaterThan(30)); // copies of earlier rows
  }

  @Test
  void compareTrainingSetsSeesOneBitAndTellsOrderFromValues() throws Exception {
    Path ref = parquet("ref", "('u1', '2025-02-01T00:00:00.000Z', 1, 0.1::DOUBLE + 0.2::DOUBLE), ('u2', 'x', 2, NULL)");
    Path same = parquet("same", "('u1', '2025-02-01T00:00:00.000Z', 1, 0.1::DOUBLE + 0.2::DOUBLE), ('u2', 'x', 2, NULL)");
    Path bit = parquet("bit", "('u1', '2025-02-01T00:00:00.000Z', 1, 0.3), ('u2', 'x', 2, NULL)");
    Path order = parquet("order", "('u2', 'x', 2, NULL), ('u1', '2025-02-01T00:00:00.000Z', 1, 0.1::DOUBLE + 0.2::DOUBLE)");
    Path shorter = parquet("shorter", "('u1', '2025-02-01T00:00:00.000Z', 1, 0.1::DOUBLE + 0.2::DOUBLE)");

    assertThat(verdict(ref, same), containsString("AGREE"));
    String b = verdict(ref, bit);
    assertThat(b, containsString("DISAGREE"));
    assertThat(b, containsString("(amount_30d differ)")); // 0.30000000000000004 is not 0.3
    assertThat(b, containsString("1 rows only in featurebeam, 1 only in duckdb"));
    String o = verdict(ref, order);
    assertThat(o, containsString("DISAGREE"));
    assertThat(o, containsString("only their order differs"));
    String s = verdict(ref, shorter);
    assertThat(s, containsString("DISAGREE"));
    assertThat(s, containsString("row 1 only in featurebeam: u2,x,2,"));
  }

  private String verdict(Path ref, Path other) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CompareTrainingSets.Result r = CompareTrainingSets.compare("featurebeam", ref, "duckdb", other,
        10, new PrintStream(out, true, StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text, text.trim().endsWith(r.agree() ? "AGREE" : "DISAGREE"), is(true));
    return text;
  }

  /** A Parquet file with user_id, timestamp (text), events_total (int64), amount_30d (double). */
  private Path parquet(String name, String values) throws Exception {
    Path file = tmp.resolve(name + ".parquet");
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement st = c.createStatement()) {
      st.execute("COPY (SELECT col0 AS user_id, col1 AS \"timestamp\", col2::BIGINT AS events_total,"
          + " col3::DOUBLE AS amount_30d FROM (VALUES " + values + ")) TO '" + file
          + "' (FORMAT parquet)");
    }
    return file;
  }
}
