package dev.featurebeam.io.source;

import dev.featurebeam.model.QuarantineRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Streams the logical records of a CSV file: one line, or several joined while a quoted field is
 * open, or a blank line (so that every line is accounted for). Reading line by line (instead of
 * handing the whole stream to Commons CSV) keeps each record's raw text and first line number for
 * the quarantine, and lets one bad record fail alone.
 */
final class CsvRecordReader {
  /**
   * The longest record, in characters, of any CSV or JSON-lines file: a longer one (one line, or
   * the lines of a quoted field) is malformed, and no more of it than this is held in memory. A
   * quote left open would otherwise swallow the rest of a large file.
   */
  static final int MAX_RECORD_CHARS = 1 << 20;

  /** How much of a record over {@link #MAX_RECORD_CHARS} its malformed record keeps as payload. */
  static final int MAX_PAYLOAD_CHARS = QuarantineRecord.MAX_PAYLOAD_CHARS;

  /**
   * One logical record: its first line number (1-based), raw text and any framing error; or a
   * blank line outside quotes, whose text is the line.
   */
  static final class Record {
    final long line;
    final String text;
    final @Nullable String error;
    final boolean blank;
    /** The whole record's length when {@link #text} keeps only its start; -1 otherwise. */
    final long length;

    Record(long line, String text, @Nullable String error) {
      this(line, text, error, false, -1);
    }

    private Record(long line, String text, @Nullable String error, boolean blank, long length) {
      this.line = line;
      this.text = text;
      this.error = error;
      this.blank = blank;
      this.length = length;
    }
  }

  private final LineReader in;
  private long lineNumber;

  /** Reads records from {@code in}, whose first line is line {@code linesBefore + 1}. */
  CsvRecordReader(LineReader in, long linesBefore) {
    this.in = in;
    this.lineNumber = linesBefore;
  }

  /**
   * Returns the next record, blank lines included, or null at the end of the file. A record over
   * {@link #MAX_RECORD_CHARS} ends with the line that takes it over, and the next record starts
   * on the line after ({@link FileSplits} keeps a file whole where that could be inside quotes).
   */
  @Nullable
  Record next() throws IOException {
    String line = in.readLine(MAX_RECORD_CHARS);
    if (line == null) {
      return null;
    }
    lineNumber++;
    long start = lineNumber;
    if (in.lastLength() > MAX_RECORD_CHARS) {
      return tooLong(start, line, in.lastLength());
    }
    if (lineNumber == 1 && line.startsWith("\uFEFF")) {
      line = line.substring(1); // a UTF-8 byte order mark, as spreadsheet tools write
    }
    if (line.isBlank()) {
      return new Record(lineNumber, line, null, true, -1);
    }
    if (!endsInsideQuotes(line, false)) {
      return new Record(start, line, null);
    }
    StringBuilder text = new StringBuilder(line);
    boolean open = true;
    while (open) {
      String more = in.readLine(Math.max(0, MAX_RECORD_CHARS - text.length() - 1));
      if (more == null) {
        break; // unterminated quote at the end of the file: the parser reports it
      }
      lineNumber++;
      long length = text.length() + 1 + in.lastLength();
      text.append('\n').append(more);
      if (length > MAX_RECORD_CHARS) {
        return tooLong(start, text, length);
      }
      open = endsInsideQuotes(more, true);
    }
    return new Record(start, text.toString(), null);
  }

  /** A record of {@code length} characters, over the limit, of which {@code text} was kept. */
  private Record tooLong(long start, CharSequence text, long length) {
    String lines = lineNumber == start ? "" : " (lines " + start + "-" + lineNumber + ")";
    return new Record(start, QuarantineRecord.keptPart(text),
        "CSV record of " + length + " characters" + lines + " is over the limit of "
            + MAX_RECORD_CHARS + "; the payload keeps its first " + MAX_PAYLOAD_CHARS, false,
        length);
  }

  /** The next record that is not a blank line (such as the header), or null at the end. */
  @Nullable
  Record nextNonBlank() throws IOException {
    Record r = next();
    while (r != null && r.blank) {
      r = next();
    }
    return r;
  }

  /** Whether a quoted field is still open at the end of {@code line} ({@link CsvQuoting}). */
  static boolean endsInsideQuotes(String line, boolean inQuotes) {
    int state = inQuotes ? CsvQuoting.QUOTED : CsvQuoting.FIELD_START;
    for (int i = 0; i < line.length(); i++) {
      state = CsvQuoting.next(state, line.charAt(i));
    }
    return CsvQuoting.open(state);
  }

  /** The header's column names, trimmed; a header that cannot be read fails the file. */
  static List<String> header(String path, Record header) {
    try {
      if (header.error != null) {
        throw new IOException(header.error);
      }
      List<String> names = split(header.text);
      names.replaceAll(String::trim);
      return names;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the CSV header of " + path + ": " + e.getMessage(), e);
    }
  }

  /** Splits one logical record into its values; fails with a reason for a malformed record. */
  static List<String> split(String text) throws IOException {
    if (text.indexOf('"') < 0) {
      // Without quotes the format is plain commas; skip building a parser (and its buffer) per line.
      return Arrays.asList(text.split(",", -1));
    }
    List<String> simple = splitSimplyQuoted(text);
    if (simple != null) {
      return simple;
    }
    List<CSVRecord> records;
    try (CSVParser parser = CSVParser.parse(text, CSVFormat.DEFAULT)) {
      records = parser.getRecords();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } catch (IllegalStateException e) {
      throw new IOException(e.getMessage(), e);
    }
    if (records.size() != 1) {
      throw new IOException("CSV text holds " + records.size() + " records");
    }
    return records.get(0).toList();
  }

  /**
   * The values of a record whose fields are each either free of quotes or wholly quoted (such as
   * {@code "a, ""b"""}), as Commons CSV's default format reads them; null for anything else (a
   * quote or a line break in an unquoted field, text after a closing quote, an unclosed quote),
   * which goes to Commons CSV and its error messages. So the usual record needs no Commons CSV
   * parser of its own.
   */
  @Nullable
  static List<String> splitSimplyQuoted(String text) {
    List<String> values = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (true) {
      if (i < n && text.charAt(i) == '"') {
        StringBuilder value = new StringBuilder();
        i++;
        while (true) {
          if (i >= n) {
            return null; // not closed
          }
          char c = text.charAt(i);
          if (c == '"') {
            if (i + 1 < n && text.charAt(i + 1) == '"') {
              value.append('"');
              i += 2;
              continue;
            }
            i++;
            break;
          }
          value.append(c);
          i++;
        }
        if (i < n && text.charAt(i) != ',') {
          return null; // text after the closing quote
        }
        values.add(value.toString());
      } else {
        int end = text.indexOf(',', i);
        if (end < 0) {
          end = n;
        }
        for (int j = i; j < end; j++) {
          char c = text.charAt(j);
          if (c == '"' || c == '\n' || c == '\r') {
            return null; // a quote or a line break inside an unquoted field
          }
        }
        values.add(text.substring(i, end));
        i = end;
      }
      if (i >= n) {
        return values;
      }
      i++; // the comma
    }
  }
}
