package dev.featurebeam.benchmarks;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Parses raw text values the way FeatureBeam's validator reads them (docs/reference.md), for the plain
 * Java comparator: written anew rather than calling the product, so that the comparator checks it.
 * Timestamps take a fast path for the common {@code 2025-01-05T10:00:00.123Z} / {@code +05:30}
 * forms and fall back to {@code java.time} for everything else.
 */
final class Values {
  private Values() {}

  /** Returned by the parsers for a value that does not parse. */
  static final long BAD = Long.MIN_VALUE;

  /**
   * A double per the declared type: plain decimal or scientific text only (no NaN, Infinity, hex
   * or type suffixes), finite. Returns NaN for a bad value.
   */
  static double parseDouble(String text) {
    int n = text.length();
    if (n == 0) {
      return Double.NaN;
    }
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
      if (!ok) {
        return Double.NaN;
      }
    }
    double d;
    try {
      d = Double.parseDouble(text);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
    return Double.isInfinite(d) ? Double.NaN : d;
  }

  /**
   * Epoch millis of a timestamp in UTC (the spec's source zone): epoch milliseconds; ISO-8601 with
   * Z or an offset; ISO-8601 without one; a bare date; a space instead of the T. {@link #BAD} when
   * it does not parse.
   */
  static long parseTimestamp(String text) {
    long fast = fastIso(text);
    if (fast != BAD) {
      return fast;
    }
    if (isEpochMillis(text)) {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        return BAD;
      }
    }
    String t = text.indexOf(' ') == 10 ? text.substring(0, 10) + 'T' + text.substring(11) : text;
    try {
      if (hasOffset(t)) {
        return OffsetDateTime.parse(t, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
      }
      if (t.length() == 10) {
        return LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
      }
      return LocalDateTime.parse(t, DateTimeFormatter.ISO_LOCAL_DATE_TIME)
          .toInstant(ZoneOffset.UTC)
          .toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      return BAD;
    } catch (DateTimeException e) {
      return BAD;
    }
  }

  /**
   * {@code yyyy-MM-ddTHH:mm:ss[.SSS](Z|+HH:MM|-HH:MM)} exactly, checked as strictly as java.time
   * would; anything else (other lengths, fractions of other widths, no offset …) returns
   * {@link #BAD} so that the slow path decides.
   */
  static long fastIso(String s) {
    int n = s.length();
    if (n != 20 && n != 24 && n != 25 && n != 29) {
      return BAD;
    }
    if (s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return BAD;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if ((year | month | day | hour | minute | second) < 0) {
      return BAD;
    }
    int p = 19;
    int millis = 0;
    if (s.charAt(p) == '.') {
      if (n - p < 5) {
        return BAD;
      }
      millis = digits(s, p + 1, 3);
      if (millis < 0) {
        return BAD;
      }
      p += 4;
    }
    long offsetSeconds;
    int rest = n - p;
    if (rest == 1 && s.charAt(p) == 'Z') {
      offsetSeconds = 0;
    } else if (rest == 6 && (s.charAt(p) == '+' || s.charAt(p) == '-') && s.charAt(p + 3) == ':') {
      int oh = digits(s, p + 1, 2);
      int om = digits(s, p + 4, 2);
      if (oh < 0 || om < 0 || om > 59 || oh * 3600 + om * 60 > 18 * 3600) {
        return BAD;
      }
      offsetSeconds = (oh * 3600L + om * 60L) * (s.charAt(p) == '-' ? -1 : 1);
    } else {
      return BAD;
    }
    if (month < 1 || month > 12 || day < 1 || day > LocalDate.of(year, month, 1).lengthOfMonth()
        || hour > 23 || minute > 59 || second > 59) {
      return BAD;
    }
    long epochDay = LocalDate.of(year, month, day).toEpochDay();
    long secs = epochDay * 86_400L + hour * 3600L + minute * 60L + second - offsetSeconds;
    return secs * 1000L + millis;
  }

  /** The non-negative number written by {@code len} ASCII digits at {@code from}, or -1. */
  private static int digits(String s, int from, int len) {
    int v = 0;
    for (int i = from; i < from + len; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static boolean isEpochMillis(String text) {
    int n = text.length();
    if (n == 0) {
      return false;
    }
    int start = text.charAt(0) == '-' ? 1 : 0;
    if (start == n) {
      return false;
    }
    for (int i = start; i < n; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
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

  /** Java's String.strip() as the validator applies it; null stays null. */
  static String strip(String s) {
    return s == null ? null : s.strip();
  }

  /** Appends {@code s} as a JSON string, as FeatureBeam's canonical serialization does. */
  static void appendJsonString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    sb.append('"');
  }
}
