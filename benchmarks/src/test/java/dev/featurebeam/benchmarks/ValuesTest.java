package dev.featurebeam.benchmarks;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.ValueParser;
import java.time.ZoneOffset;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The plain Java comparator reads values exactly as FeatureBeam's validator does. */
class ValuesTest {
  static final List<String> TIMESTAMPS = List.of(
      "2025-01-05T10:00:00Z", "2025-01-05T10:00:00.123Z", "2025-01-05T10:00:00.1Z",
      "2025-01-05T10:00:00.123456789Z", "2025-01-05T10:00Z", "2025-01-05T10:00:00+05:30",
      "2025-01-05T10:00:00.999-08:00", "2025-01-05T10:00:00+18:00", "2025-01-05T10:00:00+18:01",
      "2025-01-05T10:00:00+19:00", "2025-01-05T10:00:00+05:30:15", "2025-01-05T10:00:00+0530",
      "2025-01-05T10:00:00+05", "2025-01-05T10:00:00z", "2025-01-05t10:00:00Z",
      "2025-01-05 10:00:00Z", "2025-01-05 10:00:00", "2025-01-05T10:00:00", "2025-01-05T10:00",
      "2025-01-05", "2025-01-05Z", "2024-02-29T00:00:00Z", "2025-02-29T00:00:00Z",
      "2025-13-45T99:00", "2025-01-05T24:00:00Z", "2025-01-05T23:60:00Z", "2025-01-05T23:59:60Z",
      "1735739112345", "-1", "0", "-", "", "99999999999999999999", "1e3", "0x10", "abc",
      "2025-01-05T10:00:00.Z", "2025-01-05T10:00:00.12345+05:30", "1969-12-31T23:59:59.999Z",
      "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "2025-01-05T10:00:00-00:00",
      "1899-12-31T23:59:59.999Z", "1900-01-01T00:00:00Z", "2262-12-31T23:59:59.999Z",
      "2263-01-01T00:00:00Z", "-2208988800001", "-2208988800000");

  @Test
  void timestampsParseLikeFeatureBeam() throws Exception {
    for (String t : TIMESTAMPS) {
      long expected;
      try {
        expected = ValueParser.parseTimestampMillis(t, ZoneOffset.UTC);
      } catch (ValueParser.BadValueException e) {
        expected = Values.BAD;
      }
      assertThat(t, inEventRange(Values.parseTimestamp(t)), is(expected));
    }
  }

  /**
   * What the comparators keep of a parsed time: they drop times outside BenchSpec's event range
   * (the years 1900 to 2262) after parsing, where FeatureBeam's parser refuses them.
   */
  static long inEventRange(long ms) {
    return ms < BenchSpec.MIN_EVENT_MILLIS || ms > BenchSpec.MAX_EVENT_MILLIS ? Values.BAD : ms;
  }

  @Test
  void generatedTimestampsTakeTheFastPathAndAgree() throws Exception {
    SplittableRandom r = new SplittableRandom(3);
    java.time.format.DateTimeFormatter f =
        java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX");
    for (int i = 0; i < 20_000; i++) {
      long ms = r.nextLong(-2_000_000_000_000L, 4_000_000_000_000L);
      int offsetMinutes = (r.nextInt(2 * 18 * 60 + 1) - 18 * 60);
      String t = f.format(java.time.Instant.ofEpochMilli(ms)
          .atOffset(ZoneOffset.ofTotalSeconds(offsetMinutes * 60)));
      assertThat(t, Values.fastIso(t), is(ValueParser.parseTimestampMillis(t, ZoneOffset.UTC)));
    }
  }

  static final List<String> AMOUNTS = List.of("12.50", "0", "-0.0", "1e1", "1E+3", "+1", ".5", "5.",
      "NaN", "Infinity", "-Infinity", "1e400", "abc", "0x1p3", "1d", "1f", "--1", "1e", "12,5",
      "-12.50", " 7.25 ", "1_000", "1.2.3", "4.9e-324", "1.7976931348623157E308", "0.1e-2");

  @Test
  void doublesParseLikeFeatureBeam() {
    for (String d : AMOUNTS) {
      double expected;
      try {
        expected = (Double) ValueParser.parse(FieldType.DOUBLE, d.strip(), ZoneOffset.UTC);
      } catch (ValueParser.BadValueException e) {
        expected = Double.NaN;
      }
      assertThat(d, Values.parseDouble(d.strip()), is(expected));
    }
  }
}
