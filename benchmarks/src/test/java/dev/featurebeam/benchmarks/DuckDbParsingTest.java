package dev.featurebeam.benchmarks;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.ValueParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DuckDB query reads timestamps and amounts exactly as FeatureBeam's validator does. */
class DuckDbParsingTest {
  @TempDir Path tmp;

  /** Timestamps in every form the reference names, and near misses. */
  static List<String> timestamps() {
    List<String> out = new ArrayList<>(ValuesTest.TIMESTAMPS);
    SplittableRandom r = new SplittableRandom(4);
    String[] seps = {"T", "t", " "};
    for (int i = 0; i < 3000; i++) {
      long ms = r.nextLong(-3_000_000_000_000L, 5_000_000_000_000L);
      Instant t = Instant.ofEpochMilli(ms);
      int form = r.nextInt(8);
      String pattern;
      switch (form) {
        case 0:
          out.add(Long.toString(ms));
          continue;
        case 1:
          pattern = "uuuu-MM-dd";
          break;
        case 2:
          pattern = "uuuu-MM-dd'" + seps[r.nextInt(3)] + "'HH:mm";
          break;
        case 3:
          pattern = "uuuu-MM-dd'" + seps[r.nextInt(3)] + "'HH:mm:ss";
          break;
        default:
          pattern = "uuuu-MM-dd'" + seps[r.nextInt(3)] + "'HH:mm:ss." + "S".repeat(1 + r.nextInt(9));
      }
      String offset = "";
      ZoneOffset zone = ZoneOffset.UTC;
      if (form != 1) {
        switch (r.nextInt(5)) {
          case 0:
            offset = r.nextBoolean() ? "Z" : "z";
            break;
          case 1:
            zone = ZoneOffset.ofTotalSeconds(r.nextInt(-18 * 3600, 18 * 3600 + 1) / 60 * 60);
            offset = "XXX";
            break;
          case 2:
            zone = ZoneOffset.ofTotalSeconds(r.nextInt(-18 * 3600, 18 * 3600 + 1));
            offset = "XXXXX";
            break;
          case 3:
            // out of range offsets and fields, written by hand below
            break;
          default:
            break;
        }
      }
      String text = DateTimeFormatter.ofPattern(pattern + (offset.length() > 1 ? offset : ""))
          .format(t.atOffset(zone));
      if (offset.length() == 1) {
        text += offset;
      }
      out.add(text);
    }
    out.add("2025-01-05T10:00:00+18:30");
    out.add("2025-01-05T25:00:00Z");
    out.add("2025-01-05T10:61:00Z");
    out.add("2025-01-05T10:00:00+05:60");
    out.add("2025-01-05T10:00:00.123+05:30:60");
    out.add("2025-1-05T10:00:00Z");
    out.add("2025-01-05T1:00:00Z");
    out.add("20250105T100000Z");
    out.add("2025-01-05T10:00:00.1234567890Z");
    out.add("2025-01-05T24:00:00.000Z");
    out.add("2025-01-05T23:59:60.000+01:00");
    out.add("2025-01-05T10:00:00.000+19:00");
    out.add("2025-01-05T10:00:00.000+18:00");
    out.add("2025-02-29T10:00:00.000Z");
    out.add("2024-02-29T10:00:00.000Z");
    out.add("2025-01-05T10:00:00+18");
    out.add("2025-01-05T10:00:00-00");
    out.add("2025-01-05T10:00:00+19");
    out.add("2025-01-05T10:00:00+05:30Z");
    out.add("2025-01-05T10:00:00.+05:00");
    out.add("2025-01-05T10Z");
    out.add("+2025-01-05T10:00:00Z");
    return out;
  }

  @Test
  void timestampsAndAmountsParseLikeFeatureBeam() throws Exception {
    List<String> ts = timestamps();
    List<String> amounts = ValuesTest.AMOUNTS;
    Path csv = tmp.resolve("values.csv");
    StringBuilder sb = new StringBuilder("event_id,user_id,event_type,amount,status,category,ts\n");
    for (int i = 0; i < ts.size(); i++) {
      sb.append("t").append(i).append(",u,view,,,,").append(quote(ts.get(i))).append('\n');
    }
    for (int i = 0; i < amounts.size(); i++) {
      sb.append("a").append(i).append(",u,view,").append(quote(amounts.get(i)))
          .append(",,,2025-01-05T10:00:00Z\n");
    }
    Files.writeString(csv, sb.toString(), StandardCharsets.UTF_8);

    Map<String, Object[]> got = new HashMap<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(DuckDbFeatures.parseQuery(csv))) {
      while (rs.next()) {
        Object amount = rs.getObject("amount");
        Object ms = rs.getObject("ms");
        got.put(rs.getString("event_id"), new Object[] {
            amount == null ? null : ((Number) amount).doubleValue(),
            ms == null ? null : ((Number) ms).longValue()});
      }
    }
    for (int i = 0; i < ts.size(); i++) {
      Long expected;
      try {
        expected = ValueParser.parseTimestampMillis(ts.get(i).strip(), ZoneOffset.UTC);
      } catch (ValueParser.BadValueException e) {
        expected = null;
      }
      Long ms = (Long) got.get("t" + i)[1];
      // The query drops times outside the event range after parsing (min_event_ms, max_event_ms).
      Long kept = ms == null || ValuesTest.inEventRange(ms) == Values.BAD ? null : ms;
      assertThat("ts '" + ts.get(i) + "'", kept, is(expected));
    }
    for (int i = 0; i < amounts.size(); i++) {
      Double expected;
      try {
        expected = (Double) ValueParser.parse(FieldType.DOUBLE, amounts.get(i).strip(), ZoneOffset.UTC);
      } catch (ValueParser.BadValueException e) {
        expected = null;
      }
      Double d = (Double) got.get("a" + i)[0];
      Double valid = d != null && Double.isFinite(d) ? d : null;
      assertThat("amount '" + amounts.get(i) + "'", valid, is(expected));
    }
  }

  private static String quote(String s) {
    return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }
}
