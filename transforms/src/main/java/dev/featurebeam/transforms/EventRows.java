package dev.featurebeam.transforms;

import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/** Reads canonical event rows: plain values for comparisons and a canonical serialization. */
public final class EventRows implements Serializable {
  private EventRows() {}

  /** The value at {@code index} with timestamps as Long epoch millis, as spec where-values are. */
  public static Object plainValue(Row row, int index) {
    Object v = row.getValue(index);
    if (v instanceof Instant) {
      return ((Instant) v).getMillis();
    }
    if (v instanceof org.joda.time.ReadableInstant) {
      return ((org.joda.time.ReadableInstant) v).getMillis();
    }
    return v;
  }

  public static long eventTimeMillis(Row row, int timestampIndex) {
    return ((org.joda.time.ReadableInstant) row.getValue(timestampIndex)).getMillis();
  }

  /**
   * A canonical text form of an event: every field in spec order, timestamps as ISO-8601 UTC,
   * numbers in Java's shortest round-trip form. De-duplication breaks ties between conflicting
   * duplicates by the smallest such serialization.
   */
  public static String canonical(Row row) {
    StringBuilder sb = new StringBuilder(64).append('{');
    List<Schema.Field> fields = row.getSchema().getFields();
    for (int i = 0; i < fields.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append('"').append(fields.get(i).getName()).append("\":");
      Object v = row.getValue(i);
      if (v == null) {
        sb.append("null");
      } else if (v instanceof String) {
        appendJsonString(sb, (String) v);
      } else if (v instanceof org.joda.time.ReadableInstant) {
        sb.append('"')
            .append(java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis()))
            .append('"');
      } else {
        sb.append(v);
      }
    }
    return sb.append('}').toString();
  }

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
