package dev.featurebeam.it;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A seeded generator of hostile CSV input for the example spec's columns: valid events mixed with
 * random bytes, wrong column counts, fields of a megabyte and a record longer than any reader
 * keeps, huge and odd numbers, odd timestamps, unicode, duplicates, quoted line breaks and blank
 * lines. It counts what it writes, so a test can hold the run's report to it: every record and
 * every blank line, once.
 */
final class HostileCsv {
  static final String HEADER = "event_id,user_id,event_type,amount,status,category,ts";

  /** What was written. */
  record Written(Path file, long lines, long records, long blankLines) {}

  private static final String[] ODD_NUMBERS = {
      "1e400", "-1e400", "NaN", "Infinity", "-0", "1e-400", "0x1p3", "1_000", "١٢", "12.5.1",
      "9999999999999999999999", "+7", "1e308", "4.9e-324", " 12 ", "1,5"};
  private static final String[] ODD_TIMESTAMPS = {
      "0000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "1736071200", "1736071200000",
      "2025-02-30T00:00:00Z", "2025-01-05T25:00:00Z", "2025-01-05 10:00:00", "2025-01-05",
      "2025-01-05T10:00:00+14:00", "2025-01-05T10:00:00-12:00", "9999999999999999999", "-1",
      "1899-12-31T23:59:59Z", "2263-01-01T00:00:00Z", "yesterday", "2025-01-05T10:00:00.123456789Z"};
  private static final String[] UNICODE = {
      "Ωmega", "użytkownik", "ユーザー", "\uD83D\uDE00user", "\u202Euser", "e\u0301", "\u0000zero",
      "tab\tbed"};
  private static final String[] TYPES = {"purchase", "view", "cart", "refund", "support_ticket"};

  private HostileCsv() {}

  static Written write(Path file, long seed, int lines) throws IOException {
    Random r = new Random(seed);
    long written = 1; // the header
    long records = 0;
    long blank = 0;
    int big = 0;
    try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      out.write((HEADER + "\n").getBytes(StandardCharsets.UTF_8));
      while (written < lines) {
        int kind = r.nextInt(100);
        if (written > lines / 2 && big < 6 && kind < 2) {
          // A field of a megabyte: in amount (bad), in category (a valid event), or a record
          // longer than a reader keeps whole.
          String huge = "x".repeat(big == 5 ? 1_500_000 : 1_000_000);
          String line = big < 3
              ? csv("big" + big, "u" + r.nextInt(50), "purchase", huge, "success", "books", ts(r))
              : csv("big" + big, "u" + r.nextInt(50), "view", "", "", huge, ts(r));
          line(out, line);
          big++;
          written++;
          records++;
        } else if (kind < 55) {
          line(out, csv("e" + r.nextInt(lines), "u" + r.nextInt(300), TYPES[r.nextInt(5)],
              r.nextBoolean() ? String.format("%.2f", r.nextDouble() * 500) : "",
              r.nextBoolean() ? "success" : "failed", "c" + r.nextInt(20), ts(r)));
          written++;
          records++;
        } else if (kind < 62) {
          // Random bytes on one line, some of them not UTF-8; no line break and no quote, so the
          // line stays one record, and a first letter, so it is never a blank line.
          byte[] bytes = new byte[1 + r.nextInt(300)];
          bytes[0] = 'r';
          for (int i = 1; i < bytes.length; i++) {
            byte b;
            do {
              b = (byte) r.nextInt(256);
            } while (b == '\n' || b == '\r' || b == '"');
            bytes[i] = b;
          }
          out.write(bytes);
          out.write('\n');
          written++;
          records++;
        } else if (kind < 68) {
          int columns = r.nextBoolean() ? 1 + r.nextInt(6) : 8 + r.nextInt(5);
          StringBuilder sb = new StringBuilder("w" + r.nextInt(1000));
          for (int c = 1; c < columns; c++) {
            sb.append(',').append(r.nextInt(10));
          }
          line(out, sb.toString());
          written++;
          records++;
        } else if (kind < 76) {
          line(out, csv("n" + r.nextInt(lines), "u" + r.nextInt(300), "purchase",
              ODD_NUMBERS[r.nextInt(ODD_NUMBERS.length)], "success", "c1", ts(r)));
          written++;
          records++;
        } else if (kind < 84) {
          line(out, csv("t" + r.nextInt(lines), "u" + r.nextInt(300), "view", "", "", "c2",
              ODD_TIMESTAMPS[r.nextInt(ODD_TIMESTAMPS.length)]));
          written++;
          records++;
        } else if (kind < 89) {
          line(out, csv("x" + r.nextInt(lines), UNICODE[r.nextInt(UNICODE.length)] + r.nextInt(9),
              UNICODE[r.nextInt(UNICODE.length)], "", "", UNICODE[r.nextInt(UNICODE.length)],
              ts(r)));
          written++;
          records++;
        } else if (kind < 93) {
          // A quoted field with a line break: one record on two lines.
          line(out, csv("q" + r.nextInt(lines), "u" + r.nextInt(300), "view", "", "",
              "\"two\nlines\"", ts(r)));
          written += 2;
          records++;
        } else if (kind < 97) {
          line(out, r.nextBoolean() ? "" : " \t ");
          written++;
          blank++;
        } else {
          // A duplicate of a recent id, sometimes with another amount.
          line(out, csv("dup" + r.nextInt(20), "u" + r.nextInt(5), "purchase",
              r.nextBoolean() ? "10.00" : "11.00", "success", "c3", "2025-01-05T10:00:00Z"));
          written++;
          records++;
        }
      }
    }
    return new Written(file, written, records, blank);
  }

  private static String ts(Random r) {
    return String.format("2025-01-%02dT%02d:%02d:%02dZ", 1 + r.nextInt(10), r.nextInt(24),
        r.nextInt(60), r.nextInt(60));
  }

  private static String csv(String... values) {
    return String.join(",", values);
  }

  private static void line(OutputStream out, String line) throws IOException {
    out.write(line.getBytes(StandardCharsets.UTF_8));
    out.write('\n');
  }
}
