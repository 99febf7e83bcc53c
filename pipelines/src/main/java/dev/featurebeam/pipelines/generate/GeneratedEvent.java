package dev.featurebeam.pipelines.generate;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One raw event as the generator writes it, with every value as the text that lands in the file
 * (null = empty or absent), plus what the generator knows about it (its true instant, whether it
 * is malformed or a duplicate) so that tests can check a pipeline's counts.
 *
 * @param userId null when malformed with {@link Malformation#MISSING_USER_ID}
 * @param amount two decimals, or a malformed text ("abc", "NaN", "-12.50"); null when none
 * @param status success/failed for purchase and refund, null otherwise
 * @param ts the timestamp text as written; null when the column is missing
 * @param eventTimeMillis the event's instant (for a bad or missing ts, the instant it replaced)
 * @param amountAsJsonString JSON lines write this amount as a string ("12.50"), not a number
 * @param malformation null for a well-formed record
 */
public record GeneratedEvent(
    String eventId,
    String userId,
    String eventType,
    String amount,
    String status,
    String category,
    String ts,
    long eventTimeMillis,
    TimestampForm tsForm,
    boolean amountAsJsonString,
    Malformation malformation,
    Kind kind) {

  /** Column order of the CSV header and of every format. */
  public static final List<String> COLUMNS =
      List.of("event_id", "user_id", "event_type", "amount", "status", "category", "ts");

  private static final Pattern JSON_NUMBER = Pattern.compile("-?[0-9]+(\\.[0-9]+)?");

  /** Whether a record is an original event or a later repeat of one. */
  public enum Kind {
    ORIGINAL,
    EXACT_DUPLICATE,
    CONFLICTING_DUPLICATE
  }

  /** How the ts of a well-formed record is written; each form names the same instant. */
  public enum TimestampForm {
    /** 2025-01-01T13:45:12.345Z */
    UTC,
    /** 2025-01-01T19:15:12.345+05:30 */
    PLUS_0530,
    /** 2025-01-01T05:45:12.345-08:00 */
    MINUS_0800,
    /** 1735739112345; a JSON number in JSON lines. */
    EPOCH_MILLIS;

    private static final DateTimeFormatter ISO =
        DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX");

    String render(long millis) {
      Instant instant = Instant.ofEpochMilli(millis);
      switch (this) {
        case UTC:
          return ISO.format(OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
        case PLUS_0530:
          return ISO.format(OffsetDateTime.ofInstant(instant, ZoneOffset.ofHoursMinutes(5, 30)));
        case MINUS_0800:
          return ISO.format(OffsetDateTime.ofInstant(instant, ZoneOffset.ofHours(-8)));
        default:
          return Long.toString(millis);
      }
    }
  }

  /**
   * This record as if it happened at {@code millis}: its ts in its own form, and its instant. A
   * record without a ts, or with a malformed one, keeps it.
   */
  public GeneratedEvent at(long millis) {
    if (ts == null || malformation == Malformation.BAD_TIMESTAMP) {
      return this;
    }
    return new GeneratedEvent(eventId, userId, eventType, amount, status, category,
        tsForm.render(millis), millis, tsForm, amountAsJsonString, malformation, kind);
  }

  public boolean isMalformed() {
    return malformation != null;
  }

  /** The CSV fields; one short (no ts) for {@link Malformation#MISSING_COLUMN}. */
  public List<String> csvValues() {
    List<String> v = new ArrayList<>(7);
    v.add(eventId);
    v.add(userId);
    v.add(eventType);
    v.add(amount);
    v.add(status);
    v.add(category);
    if (malformation != Malformation.MISSING_COLUMN) {
      v.add(ts);
    }
    return v;
  }

  /**
   * One JSON object, without the newline. Written by hand for a stable byte layout; the values
   * come from fixed alphabets, so escaping quotes and backslashes is all that is ever needed.
   * Absent user_id and ts are left out; absent amount and status are JSON null.
   */
  public String toJsonLine() {
    StringBuilder b = new StringBuilder(160);
    b.append('{');
    string(b, "event_id", eventId);
    if (userId != null) {
      b.append(',');
      string(b, "user_id", userId);
    }
    b.append(',');
    string(b, "event_type", eventType);
    b.append(",\"amount\":");
    if (amount == null) {
      b.append("null");
    } else if (amountAsJsonString || !isJsonNumber(amount)) {
      quoted(b, amount);
    } else {
      b.append(amount);
    }
    b.append(',');
    string(b, "status", status);
    b.append(',');
    string(b, "category", category);
    if (ts != null) {
      b.append(",\"ts\":");
      if (tsForm == TimestampForm.EPOCH_MILLIS && malformation != Malformation.BAD_TIMESTAMP) {
        b.append(ts);
      } else {
        quoted(b, ts);
      }
    }
    return b.append('}').toString();
  }

  /**
   * The amount as Parquet's nullable double holds it: "abc" cannot be stored in a double column,
   * so it becomes +Infinity, which validation treats as a bad number just like NaN.
   */
  public Double amountAsDouble() {
    if (amount == null) {
      return null;
    }
    if (malformation == Malformation.AMOUNT_NOT_A_NUMBER) {
      return Double.POSITIVE_INFINITY;
    }
    return Double.parseDouble(amount);
  }

  private static boolean isJsonNumber(String s) {
    return JSON_NUMBER.matcher(s).matches();
  }

  private static void string(StringBuilder b, String key, String value) {
    b.append('"').append(key).append("\":");
    if (value == null) {
      b.append("null");
    } else {
      quoted(b, value);
    }
  }

  private static void quoted(StringBuilder b, String value) {
    b.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\');
      }
      b.append(c);
    }
    b.append('"');
  }
}
