package dev.featurebeam.spec;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Parses a raw text value as a declared {@link FieldType}. Shared by validation and the spec's
 * {@code where} values, so that both read "12.50" or "2025-01-05T10:00:00" the same way.
 */
public final class ValueParser {
  private ValueParser() {}

  /** Thrown for a value that does not parse as its declared type. */
  public static final class BadValueException extends Exception {
    public BadValueException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Returns the typed value: String, Long, Double (finite), Boolean, or Long epoch millis for a
   * timestamp.
   */
  public static Object parse(FieldType type, String text, ZoneId zone) throws BadValueException {
    return parse(type, text, zone, FieldSpec.TimestampFormat.EPOCH_MILLIS);
  }

  /** As {@link #parse(FieldType, String, ZoneId)}, a bare number in a timestamp read per {@code format}. */
  public static Object parse(
      FieldType type, String text, ZoneId zone, FieldSpec.TimestampFormat format)
      throws BadValueException {
    switch (type) {
      case STRING:
        return text;
      case LONG:
        return parseLong(text);
      case DOUBLE:
        return parseDouble(text);
      case BOOLEAN:
        return parseBoolean(text);
      case TIMESTAMP:
        return parseTimestampMillis(text, zone, format);
      default:
        throw new IllegalStateException("unknown type " + type);
    }
  }

  /**
   * A value a typed source read natively ({@code Long}, {@code Double}, {@code Boolean}; a
   * timestamp as Long epoch millis), held to the rules {@link #parse} holds text to: a finite
   * number, a time in the years 1900-2262.
   */
  public static Object checkNative(FieldType type, Object value) throws BadValueException {
    switch (type) {
      case LONG:
        return (Long) value;
      case DOUBLE:
        double d = (Double) value;
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          throw new BadValueException("not a finite number: " + d);
        }
        return d;
      case BOOLEAN:
        return (Boolean) value;
      case TIMESTAMP:
        long millis = (Long) value;
        if (millis < MIN_TIMESTAMP_MILLIS || millis >= END_TIMESTAMP_MILLIS) {
          throw new BadValueException("not in the years 1900-2262: "
              + java.time.Instant.ofEpochMilli(millis));
        }
        return millis;
      default:
        throw new IllegalArgumentException("no native value for a " + type.yamlName());
    }
  }

  /**
   * ASCII digits with an optional sign, within int64: Long.parseLong alone would also take other
   * scripts' digits ("١٢"), and "12.0" or "1e3" are not written as whole numbers.
   */
  static long parseLong(String text) throws BadValueException {
    int n = text.length();
    int i = n > 0 && (text.charAt(0) == '+' || text.charAt(0) == '-') ? 1 : 0;
    if (i == n) {
      throw new BadValueException("not a whole number: " + text);
    }
    for (; i < n; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw new BadValueException("not a whole number: " + text);
      }
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new BadValueException("whole number outside the 64-bit range: " + text);
    }
  }

  static double parseDouble(String text) throws BadValueException {
    if (!isDecimalText(text)) {
      throw new BadValueException("not a number: " + text);
    }
    double d;
    try {
      d = Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new BadValueException("not a number: " + text);
    }
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new BadValueException("not a finite number: " + text);
    }
    return d;
  }

  /** Plain decimal or scientific notation only: refuses "NaN", "Infinity", "0x1p3", "1d", "1f". */
  private static boolean isDecimalText(String text) {
    int n = text.length();
    if (n == 0) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  static boolean parseBoolean(String text) throws BadValueException {
    switch (text.toLowerCase(java.util.Locale.ROOT)) {
      case "true":
      case "1":
        return true;
      case "false":
      case "0":
        return false;
      default:
        throw new BadValueException("not a boolean: " + text);
    }
  }

  /**
   * The instants every timestamp must lie in: [1900-01-01T00:00:00Z, 2263-01-01T00:00:00Z). Years
   * such as 0000 or +10000 are typing errors, not events; and the range stays far inside what Beam
   * can carry through a window and de-duplication's timer past an event (years up to 294247).
   */
  public static final long MIN_TIMESTAMP_MILLIS = LocalDate.of(1900, 1, 1).toEpochDay() * 86_400_000L;

  /** The end (exclusive) of {@link #MIN_TIMESTAMP_MILLIS}'s range: 2263-01-01T00:00:00Z. */
  public static final long END_TIMESTAMP_MILLIS = LocalDate.of(2263, 1, 1).toEpochDay() * 86_400_000L;

  /**
   * ISO-8601 with an offset or Z; ISO-8601 without one (read in {@code zone}); a bare date (its
   * midnight in {@code zone}); or epoch milliseconds. Only the years 1900 to 2262 pass.
   */
  public static long parseTimestampMillis(String text, ZoneId zone) throws BadValueException {
    return parseTimestampMillis(text, zone, FieldSpec.TimestampFormat.EPOCH_MILLIS);
  }

  /**
   * As {@link #parseTimestampMillis(String, ZoneId)}, but a bare number is read per {@code
   * format}: epoch milliseconds ({@code -?[0-9]+}), or epoch seconds ({@code -?[0-9]+}, with an
   * optional decimal fraction floored to the millisecond, as Python's time.time() writes it).
   * ISO-8601 text reads the same in either format.
   */
  public static long parseTimestampMillis(
      String text, ZoneId zone, FieldSpec.TimestampFormat format) throws BadValueException {
    long millis = parseAnyTimestampMillis(text, zone, format);
    if (millis < MIN_TIMESTAMP_MILLIS || millis >= END_TIMESTAMP_MILLIS) {
      throw new BadValueException("not in the years 1900-2262: " + text);
    }
    return millis;
  }

  private static long parseAnyTimestampMillis(
      String text, ZoneId zone, FieldSpec.TimestampFormat format) throws BadValueException {
    boolean seconds = format == FieldSpec.TimestampFormat.EPOCH_SECONDS;
    int point = epochNumber(text, seconds);
    if (point >= 0) {
      return seconds ? epochSecondsToMillis(text, point) : epochMillis(text);
    }
    long fast = parseUtcFast(text);
    if (fast != Long.MIN_VALUE) {
      return fast;
    }
    String t = text.indexOf(' ') == 10 ? text.substring(0, 10) + 'T' + text.substring(11) : text;
    try {
      if (hasOffset(t)) {
        return OffsetDateTime.parse(t, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
      }
      if (t.length() == 10) {
        return LocalDate.parse(t).atStartOfDay(zone).toInstant().toEpochMilli();
      }
      return LocalDateTime.parse(t, DateTimeFormatter.ISO_LOCAL_DATE_TIME)
          .atZone(zone)
          .toInstant()
          .toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new BadValueException("not a timestamp: " + text);
    } catch (DateTimeException e) {
      throw new BadValueException("not a timestamp: " + text);
    }
  }

  /**
   * The commonest form, {@code YYYY-MM-DDTHH:MM:SSZ} or with {@code .fff}, read without
   * java.time's formatter (a profile showed it at a few percent of a run); Long.MIN_VALUE for any
   * other form, which then takes the general path. Out-of-range fields are refused as there.
   */
  static long parseUtcFast(String t) throws BadValueException {
    int n = t.length();
    if ((n != 20 && n != 24) || t.charAt(n - 1) != 'Z' || t.charAt(4) != '-' || t.charAt(7) != '-'
        || t.charAt(10) != 'T' || t.charAt(13) != ':' || t.charAt(16) != ':'
        || (n == 24 && t.charAt(19) != '.')) {
      return Long.MIN_VALUE;
    }
    int year = digits(t, 0, 4);
    int month = digits(t, 5, 2);
    int day = digits(t, 8, 2);
    int hour = digits(t, 11, 2);
    int minute = digits(t, 14, 2);
    int second = digits(t, 17, 2);
    int millis = n == 24 ? digits(t, 20, 3) : 0;
    if ((year | month | day | hour | minute | second | millis) < 0) {
      return Long.MIN_VALUE;
    }
    if (hour > 23 || minute > 59 || second > 59) {
      throw new BadValueException("not a timestamp: " + t);
    }
    long epochDay;
    try {
      epochDay = LocalDate.of(year, month, day).toEpochDay();
    } catch (DateTimeException e) {
      throw new BadValueException("not a timestamp: " + t);
    }
    return ((epochDay * 24 + hour) * 60 + minute) * 60_000L + second * 1000L + millis;
  }

  private static int digits(String t, int from, int count) {
    int v = 0;
    for (int i = from; i < from + count; i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /**
   * Where the decimal point of a bare epoch number is ({@code text.length()} without one), or -1
   * when {@code text} is not one: {@code -?[0-9]+}, and with {@code fraction} also
   * {@code -?[0-9]+\.[0-9]+}.
   */
  private static int epochNumber(String text, boolean fraction) {
    int n = text.length();
    int start = n > 0 && text.charAt(0) == '-' ? 1 : 0;
    int i = start;
    while (i < n && isDigit(text.charAt(i))) {
      i++;
    }
    if (i == start) {
      return -1;
    }
    if (i == n) {
      return n;
    }
    int point = i;
    if (!fraction || text.charAt(point) != '.' || point + 1 == n) {
      return -1;
    }
    for (i = point + 1; i < n; i++) {
      if (!isDigit(text.charAt(i))) {
        return -1;
      }
    }
    return point;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static long epochMillis(String text) throws BadValueException {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new BadValueException("epoch milliseconds out of range: " + text);
    }
  }

  /** Seconds with an optional fraction (its point at {@code point}), floored to the millisecond. */
  private static long epochSecondsToMillis(String text, int point) throws BadValueException {
    boolean negative = text.charAt(0) == '-';
    int n = text.length();
    int fraction = 0; // the first three digits after the point, as milliseconds
    int digits = 0;
    boolean finer = false; // any non-zero digit after those
    for (int i = point + 1; i < n; i++) {
      int d = text.charAt(i) - '0';
      if (digits < 3) {
        fraction = fraction * 10 + d;
        digits++;
      } else if (d != 0) {
        finer = true;
      }
    }
    for (; digits < 3; digits++) {
      fraction *= 10; // ".5" is 500 ms
    }
    long millis;
    try {
      millis = Math.addExact(
          Math.multiplyExact(Long.parseLong(text, negative ? 1 : 0, point, 10), 1000L), fraction);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new BadValueException("epoch seconds out of range: " + text);
    }
    // Flooring a time before 1970 rounds its magnitude up.
    return negative ? -millis - (finer ? 1 : 0) : millis;
  }

  private static boolean hasOffset(String t) {
    if (t.endsWith("Z") || t.endsWith("z")) {
      return true;
    }
    int tIdx = t.indexOf('T');
    if (tIdx < 0) {
      return false;
    }
    return t.indexOf('+', tIdx) > 0 || t.indexOf('-', tIdx) > 0;
  }
}
