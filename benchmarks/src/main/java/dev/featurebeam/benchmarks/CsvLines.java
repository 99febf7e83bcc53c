package dev.featurebeam.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the logical records of a CSV file as FeatureBeam's file source does: blank lines are
 * skipped, a line that ends inside a quoted field is joined with the next ones, a byte order mark
 * before the header is dropped. {@link #split} splits one record (RFC 4180 quoting) and returns
 * null for a record that cannot be split.
 */
final class CsvLines {
  static final int MAX_RECORD_CHARS = 1 << 20;

  private final BufferedReader in;
  private long lineNumber;

  CsvLines(BufferedReader in) {
    this.in = in;
  }

  /**
   * The next non-blank record, or null at the end of the file. A quote still open after
   * {@link #MAX_RECORD_CHARS} characters gives the record read so far prefixed with a NUL
   * character, which {@link #split} refuses.
   */
  String next() throws IOException {
    String line;
    do {
      line = in.readLine();
      if (line == null) {
        return null;
      }
      lineNumber++;
      if (lineNumber == 1 && line.startsWith("\uFEFF")) {
        line = line.substring(1);
      }
    } while (line.isBlank());
    if (line.indexOf('"') < 0) {
      return line;
    }
    boolean open = endsInsideQuotes(line, false);
    if (!open) {
      return line;
    }
    StringBuilder text = new StringBuilder(line);
    while (open) {
      String more = in.readLine();
      if (more == null) {
        break;
      }
      lineNumber++;
      text.append('\n').append(more);
      open = endsInsideQuotes(more, true);
      if (open && text.length() > MAX_RECORD_CHARS) {
        return "\0" + text;
      }
    }
    return text.toString();
  }

  /** Whether a quoted field is still open at the end of {@code line} (a quote opens a field only first). */
  static boolean endsInsideQuotes(String line, boolean inQuotes) {
    boolean fieldStart = !inQuotes;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (inQuotes) {
        if (c == '"') {
          if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
            i++;
          } else {
            inQuotes = false;
          }
        }
      } else if (c == '"' && fieldStart) {
        inQuotes = true;
        fieldStart = false;
      } else {
        fieldStart = c == ',';
      }
    }
    return inQuotes;
  }

  /**
   * Splits one record into {@code out} (cleared first). A field that starts with a quote runs to
   * the closing quote ({@code ""} inside is a quote) and must end there; elsewhere a quote is an
   * ordinary character. Returns false for a record that cannot be split (a quote left open, text
   * after a closing quote).
   */
  static boolean split(String text, List<String> out) {
    out.clear();
    if (!text.isEmpty() && text.charAt(0) == '\0') {
      return false;
    }
    if (text.indexOf('"') < 0) {
      int start = 0;
      for (int comma = text.indexOf(','); comma >= 0; comma = text.indexOf(',', start)) {
        out.add(text.substring(start, comma));
        start = comma + 1;
      }
      out.add(text.substring(start));
      return true;
    }
    int n = text.length();
    int i = 0;
    while (true) {
      if (i < n && text.charAt(i) == '"') {
        StringBuilder v = new StringBuilder();
        i++;
        while (true) {
          if (i >= n) {
            return false; // quote never closed
          }
          char c = text.charAt(i);
          if (c == '"') {
            if (i + 1 < n && text.charAt(i + 1) == '"') {
              v.append('"');
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            v.append(c);
            i++;
          }
        }
        out.add(v.toString());
        if (i == n) {
          return true;
        }
        if (text.charAt(i) != ',') {
          return false; // text between the closing quote and the delimiter
        }
        i++;
      } else {
        int comma = text.indexOf(',', i);
        if (comma < 0) {
          out.add(text.substring(i));
          return true;
        }
        out.add(text.substring(i, comma));
        i = comma + 1;
      }
    }
  }

  /** The header's column names, trimmed. */
  static List<String> header(String text) {
    List<String> names = new ArrayList<>();
    if (text == null || !split(text, names)) {
      throw new IllegalArgumentException("cannot read the CSV header");
    }
    names.replaceAll(String::trim);
    return names;
  }
}
