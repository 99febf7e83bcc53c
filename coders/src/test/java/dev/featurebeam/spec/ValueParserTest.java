package dev.featurebeam.spec;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValueParserTest {
  private static final ZoneId UTC = ZoneOffset.UTC;
  /** 2025-01-05T00:00:00Z in epoch milliseconds. */
  private static final long JAN5 = 1_736_035_200_000L;
  private static final long HOUR = 3_600_000L;
  private static final long MINUTE = 60_000L;

  // ---- timestamps ------------------------------------------------------------------------

  @Test
  void timestampWithZIsUtc() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00Z", UTC), equalTo(JAN5 + 10 * HOUR));
  }

  @Test
  void timestampWithMillisAndZ() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00.123Z", UTC),
        equalTo(JAN5 + 10 * HOUR + 123));
  }

  @Test
  void timestampWithPositiveOffsetIsConvertedToUtc() throws Exception {
    // 10:00 at +05:30 is 04:30 UTC
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00+05:30", UTC),
        equalTo(1_736_051_400_000L));
    assertThat(1_736_051_400_000L, equalTo(JAN5 + 4 * HOUR + 30 * MINUTE));
  }

  @Test
  void timestampOffsetWinsOverConfiguredZone() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00+05:30", ZoneId.of("America/New_York")),
        equalTo(JAN5 + 4 * HOUR + 30 * MINUTE));
  }

  @Test
  void timestampWithNegativeOffset() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00-05:00", UTC), equalTo(JAN5 + 15 * HOUR));
  }

  @Test
  void timestampWithoutOffsetIsReadInUtcByDefault() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00", UTC), equalTo(JAN5 + 10 * HOUR));
  }

  @Test
  void timestampWithoutOffsetIsReadInConfiguredZone() throws Exception {
    // New York is UTC-5 in January: 10:00 local is 15:00 UTC
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00", ZoneId.of("America/New_York")),
        equalTo(JAN5 + 15 * HOUR));
    // Kolkata is UTC+05:30: 10:00 local is 04:30 UTC
    assertThat(ValueParser.parseTimestampMillis("2025-01-05T10:00:00", ZoneId.of("Asia/Kolkata")),
        equalTo(JAN5 + 4 * HOUR + 30 * MINUTE));
  }

  @Test
  void timestampWithSpaceSeparator() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("2025-01-05 10:00:00Z", UTC), equalTo(JAN5 + 10 * HOUR));
    assertThat(ValueParser.parseTimestampMillis("2025-01-05 10:00:00", UTC), equalTo(JAN5 + 10 * HOUR));
  }

  @Test
  void bareDateIsMidnightInTheZone() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("2025-01-05", UTC), equalTo(JAN5));
    assertThat(ValueParser.parseTimestampMillis("2025-01-05", ZoneId.of("Asia/Kolkata")),
        equalTo(JAN5 - 5 * HOUR - 30 * MINUTE));
  }

  @Test
  void epochMillis() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("1736071200000", UTC), equalTo(JAN5 + 10 * HOUR));
    // epoch millis are absolute: the zone does not move them
    assertThat(ValueParser.parseTimestampMillis("1736071200000", ZoneId.of("Asia/Kolkata")),
        equalTo(JAN5 + 10 * HOUR));
    assertThat(ValueParser.parseTimestampMillis("0", UTC), equalTo(0L));
  }

  @Test
  void epochSecondsWhenTheFieldSaysSo() throws Exception {
    FieldSpec.TimestampFormat seconds = FieldSpec.TimestampFormat.EPOCH_SECONDS;
    FieldSpec.TimestampFormat millis = FieldSpec.TimestampFormat.EPOCH_MILLIS;
    assertThat(ValueParser.parseTimestampMillis("1736071200", UTC, seconds), equalTo(JAN5 + 10 * HOUR));
    // Without the format a bare number is milliseconds: 1736071200 ms is in January 1970.
    assertThat(ValueParser.parseTimestampMillis("1736071200", UTC), equalTo(1_736_071_200L));
    assertThat(ValueParser.parseTimestampMillis("1736071200", UTC, millis), equalTo(1_736_071_200L));
    assertThat(ValueParser.parse(FieldType.TIMESTAMP, "1736071200", UTC, seconds), equalTo(JAN5 + 10 * HOUR));
    // A fraction, as Python's time.time() writes it, is floored to the millisecond.
    assertThat(ValueParser.parseTimestampMillis("1736071200.123456", UTC, seconds),
        equalTo(JAN5 + 10 * HOUR + 123));
    assertThat(ValueParser.parseTimestampMillis("1736071200.5", UTC, seconds), equalTo(JAN5 + 10 * HOUR + 500));
    assertThat(ValueParser.parseTimestampMillis("1736071200.000", UTC, seconds), equalTo(JAN5 + 10 * HOUR));
    assertThat(ValueParser.parseTimestampMillis("0", UTC, seconds), equalTo(0L));
    assertThat(ValueParser.parseTimestampMillis("-1.5", UTC, seconds), equalTo(-1500L));
    assertThat(ValueParser.parseTimestampMillis("-0.0001", UTC, seconds), equalTo(-1L));
    assertThat(ValueParser.parseTimestampMillis("-1.0015", UTC, seconds), equalTo(-1002L));
    // ISO-8601 text reads the same whatever the format.
    for (String iso : new String[] {"2025-01-05T10:00:00Z", "2025-01-05T10:00:00", "2025-01-05 10:00:00+00:00"}) {
      assertThat(ValueParser.parseTimestampMillis(iso, UTC, seconds), equalTo(JAN5 + 10 * HOUR));
    }
    assertThat(ValueParser.parseTimestampMillis("2025-01-05", UTC, seconds), equalTo(JAN5));
    for (String bad : new String[] {"1736071200.", ".5", "1736071200.12a", "1e9", "+1736071200",
        "1736071200,5", "1\u0662", "9223372036854775807", "-2208988801", "9246182400"}) {
      ValueParser.BadValueException e = assertThrows(ValueParser.BadValueException.class,
          () -> ValueParser.parseTimestampMillis(bad, UTC, seconds), bad);
      assertThat(e.getMessage(), containsString(bad));
    }
    // Milliseconds take no fraction.
    assertThrows(ValueParser.BadValueException.class,
        () -> ValueParser.parseTimestampMillis("1736071200000.5", UTC, millis));
  }

  @Test
  void timestampThroughParseIsALong() throws Exception {
    Object v = ValueParser.parse(FieldType.TIMESTAMP, "2025-01-05T00:00:00Z", UTC);
    assertThat(v, instanceOf(Long.class));
    assertThat(v, equalTo(JAN5));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "garbage", "not a date", "", "2025-13-01", "2025-01-32", "2025-01-05T25:00:00Z",
      "2025-01-05T10:00:00+25:00", "10:00:00", "2025/01/05", "1.5", "99999999999999999999999"})
  void garbageTimestampsAreRefused(String text) {
    ValueParser.BadValueException e =
        assertThrows(ValueParser.BadValueException.class, () -> ValueParser.parseTimestampMillis(text, UTC));
    assertThat(e.getMessage(), containsString(text));
  }

  /** Every timestamp lies in [1900-01-01T00:00:00Z, 2263-01-01T00:00:00Z), however written. */
  @Test
  void timestampsOutsideTheYears1900To2262AreRefused() throws Exception {
    assertThat(ValueParser.parseTimestampMillis("1900-01-01T00:00:00Z", UTC), equalTo(-2_208_988_800_000L));
    assertThat(ValueParser.parseTimestampMillis("1900-01-01", UTC), equalTo(-2_208_988_800_000L));
    assertThat(ValueParser.parseTimestampMillis("-2208988800000", UTC), equalTo(-2_208_988_800_000L));
    assertThat(ValueParser.parseTimestampMillis("2262-12-31T23:59:59.999Z", UTC), equalTo(9_246_182_399_999L));
    assertThat(ValueParser.parseTimestampMillis("2262-12-31T23:59:59.999+00:00", UTC), equalTo(9_246_182_399_999L));
    assertThat(ValueParser.MIN_TIMESTAMP_MILLIS, equalTo(-2_208_988_800_000L));
    assertThat(ValueParser.END_TIMESTAMP_MILLIS, equalTo(9_246_182_400_000L));
    for (String bad : new String[] {
        "0000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
        "1899-12-31T23:59:59.999Z", "1899-12-31", "2263-01-01T00:00:00Z", "2263-01-01",
        "2262-12-31T23:30:00-01:00", "1900-01-01T05:00:00+05:30", "-2208988800001",
        "9246182400000", "9223372036854775807", "-9223372036854775808"}) {
      ValueParser.BadValueException e = assertThrows(ValueParser.BadValueException.class,
          () -> ValueParser.parseTimestampMillis(bad, UTC), bad);
      assertThat(e.getMessage(), allOf(containsString("1900-2262"), containsString(bad)));
    }
    // Without an offset the text is read in the zone first: 1900-01-01T00:00 in Kolkata is 1899 in UTC.
    assertThrows(ValueParser.BadValueException.class,
        () -> ValueParser.parseTimestampMillis("1900-01-01T00:00:00", ZoneId.of("Asia/Kolkata")));
    assertThrows(ValueParser.BadValueException.class,
        () -> ValueParser.parse(FieldType.TIMESTAMP, "0000-01-01T00:00:00Z", UTC));
  }

  // ---- doubles ---------------------------------------------------------------------------

  @Test
  void doublesFromText() throws Exception {
    assertThat(ValueParser.parse(FieldType.DOUBLE, "12.50", UTC), equalTo(12.5d));
    assertThat(ValueParser.parse(FieldType.DOUBLE, "12", UTC), equalTo(12.0d));
    assertThat(ValueParser.parse(FieldType.DOUBLE, "-0.25", UTC), equalTo(-0.25d));
    assertThat(ValueParser.parse(FieldType.DOUBLE, "1e3", UTC), equalTo(1000.0d));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "0x10", "0x1p3", "abc", "", "1d", "1f",
      "12,5", "12.5.1"})
  void badDoublesAreRefused(String text) {
    assertThrows(ValueParser.BadValueException.class, () -> ValueParser.parse(FieldType.DOUBLE, text, UTC));
  }

  // ---- longs -----------------------------------------------------------------------------

  @Test
  void longsFromText() throws Exception {
    assertThat(ValueParser.parse(FieldType.LONG, "12", UTC), equalTo(12L));
    assertThat(ValueParser.parse(FieldType.LONG, "+12", UTC), equalTo(12L));
    assertThat(ValueParser.parse(FieldType.LONG, "-0", UTC), equalTo(0L));
    assertThat(ValueParser.parse(FieldType.LONG, "-7", UTC), equalTo(-7L));
    assertThat(ValueParser.parse(FieldType.LONG, "007", UTC), equalTo(7L));
    assertThat(ValueParser.parse(FieldType.LONG, "9223372036854775807", UTC), equalTo(Long.MAX_VALUE));
    assertThat(ValueParser.parse(FieldType.LONG, "-9223372036854775808", UTC), equalTo(Long.MIN_VALUE));
  }

  /** Only [+-]?[0-9]+ within int64: no other script's digits, no decimal point, no exponent. */
  @ParameterizedTest
  @ValueSource(strings = {
      "\u0661\u0662", "1\u0662", "\uFF11\uFF12", "1e3", "1E3", "1.0", "12.0", "12.", ".5", "12.5",
      "abc", "", "+", "-", "+-1", "--1", "1 2", "NaN", "Infinity", "1e400", "0x10",
      "9223372036854775808", "-9223372036854775809", "12L"})
  void badLongsAreRefused(String text) {
    ValueParser.BadValueException e = assertThrows(ValueParser.BadValueException.class,
        () -> ValueParser.parse(FieldType.LONG, text, UTC));
    assertThat(e.getMessage(), containsString(text));
  }

  // ---- booleans and strings --------------------------------------------------------------

  @Test
  void booleans() throws Exception {
    assertThat(ValueParser.parse(FieldType.BOOLEAN, "true", UTC), equalTo(true));
    assertThat(ValueParser.parse(FieldType.BOOLEAN, "false", UTC), equalTo(false));
    assertThat(ValueParser.parse(FieldType.BOOLEAN, "1", UTC), equalTo(true));
    assertThat(ValueParser.parse(FieldType.BOOLEAN, "0", UTC), equalTo(false));
    assertThat(ValueParser.parse(FieldType.BOOLEAN, "TRUE", UTC), equalTo(true));
  }

  @ParameterizedTest
  @ValueSource(strings = {"yes", "no", "2", "", "t"})
  void badBooleansAreRefused(String text) {
    assertThrows(ValueParser.BadValueException.class, () -> ValueParser.parse(FieldType.BOOLEAN, text, UTC));
  }

  @Test
  void stringsAreKeptAsGiven() throws Exception {
    assertThat(ValueParser.parse(FieldType.STRING, "Hello World", UTC), equalTo("Hello World"));
  }

  /** The fast path for "...Z" agrees with java.time on every instant and refuses what it refuses. */
  @Test
  void fastUtcPathAgreesWithJavaTime() throws Exception {
    java.util.SplittableRandom r = new java.util.SplittableRandom(11);
    long from = java.time.Instant.parse("1901-01-01T00:00:00Z").toEpochMilli();
    long to = java.time.Instant.parse("2099-12-31T23:59:59.999Z").toEpochMilli();
    for (int i = 0; i < 20_000; i++) {
      long millis = r.nextLong(from, to);
      if (i % 2 == 0) {
        millis -= Math.floorMod(millis, 1000L); // also the form without fractional seconds
      }
      String text = java.time.Instant.ofEpochMilli(millis).toString();
      assertThat(text, ValueParser.parseTimestampMillis(text, java.time.ZoneOffset.UTC),
          org.hamcrest.Matchers.equalTo(millis));
      // Instant.toString's forms (how Parquet timestamps reach validation) take the fast path.
      assertThat(text, ValueParser.parseUtcFast(text), equalTo(millis));
    }
    for (String bad : new String[] {"2025-02-30T00:00:00Z", "2025-01-01T24:00:00Z",
        "2025-01-01T00:60:00Z", "2025-01-01T00:00:60Z", "2025-13-01T00:00:00Z",
        "2025-00-10T00:00:00Z", "2025-01-00T00:00:00Z", "2025-01-0xT00:00:00Z"}) {
      org.junit.jupiter.api.Assertions.assertThrows(ValueParser.BadValueException.class,
          () -> ValueParser.parseTimestampMillis(bad, java.time.ZoneOffset.UTC), bad);
    }
  }
}
