package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.StringReader;
import org.junit.jupiter.api.Test;

class CsvRecordReaderTest {
  @Test
  void quoteOpensAFieldOnlyAtItsStart() {
    assertThat(CsvRecordReader.endsInsideQuotes("a,\"b", false), is(true));
    assertThat(CsvRecordReader.endsInsideQuotes("a,5\" screen,c", false), is(false));
    assertThat(CsvRecordReader.endsInsideQuotes("a,\"say \"\"hi\"\"\",c", false), is(false));
    assertThat(CsvRecordReader.endsInsideQuotes("still open \"\" here", true), is(true));
    assertThat(CsvRecordReader.endsInsideQuotes("closed\",next", true), is(false));
  }

  @Test
  void joinsLinesWhileAQuoteIsOpenAndGivesBlankLinesAsBlankRecords() throws IOException {
    CsvRecordReader reader = new CsvRecordReader(new LineReader(new StringReader(
        "\uFEFF\n \t\na,b\n\n1,\"x\n\ny\"\n2,z\n\n")), 0);
    // Blank lines before the header: line 1 (only a byte order mark) and line 2 (white space).
    assertBlank(reader.next(), 1);
    assertBlank(reader.next(), 2);
    CsvRecordReader.Record header = reader.next();
    assertThat(header.line, is(3L));
    assertThat(header.text, is("a,b"));
    assertThat(header.blank, is(false));
    assertBlank(reader.next(), 4);
    // The blank line inside the quoted field (line 6) belongs to its record.
    CsvRecordReader.Record first = reader.next();
    assertThat(first.line, is(5L));
    assertThat(first.text, is("1,\"x\n\ny\""));
    assertThat(first.blank, is(false));
    assertThat(CsvRecordReader.split(first.text), contains("1", "x\n\ny"));
    CsvRecordReader.Record second = reader.next();
    assertThat(second.line, is(8L));
    assertThat(CsvRecordReader.split(second.text), contains("2", "z"));
    assertBlank(reader.next(), 9);
    assertThat(reader.next(), nullValue());
  }

  @Test
  void theHeaderIsTheFirstRecordThatIsNotBlank() throws IOException {
    CsvRecordReader reader =
        new CsvRecordReader(new LineReader(new StringReader("\n  \r\na,b\n1,2\n")), 0);
    CsvRecordReader.Record header = reader.nextNonBlank();
    assertThat(header.line, is(3L));
    assertThat(header.text, is("a,b"));
    assertThat(reader.next().text, is("1,2"));
    assertThat(new CsvRecordReader(new LineReader(new StringReader("\n \n")), 0).nextNonBlank(),
        nullValue());
  }

  private static void assertBlank(CsvRecordReader.Record r, long line) {
    assertThat("line " + line, r.blank, is(true));
    assertThat("line " + line, r.line, is(line));
    assertThat("line " + line, r.error, nullValue());
  }

  /** A 3 MiB line is malformed: its first 64 KiB and its length, and the next line reads as ever. */
  @Test
  void aRecordOverTheLimitIsMalformedAndReadingGoesOn() throws IOException {
    int big = 3 << 20;
    String huge = "7," + "x".repeat(big - 2);
    CsvRecordReader reader = new CsvRecordReader(new LineReader(new StringReader(
        "a,b\n" + huge + "\n1,ok\n")), 0);
    assertThat(reader.next().text, is("a,b"));
    CsvRecordReader.Record r = reader.next();
    assertThat(r.line, is(2L));
    assertThat(r.text, is(huge.substring(0, CsvRecordReader.MAX_PAYLOAD_CHARS)));
    assertThat(r.error, is("CSV record of " + big + " characters is over the limit of 1048576;"
        + " the payload keeps its first 65536"));
    CsvRecordReader.Record next = reader.next();
    assertThat(next.line, is(3L));
    assertThat(next.text, is("1,ok"));
    assertThat(next.error, nullValue());
    assertThat(reader.next(), nullValue());
  }

  /**
   * The lines of a quoted field count together: the record ends with the line that takes it over
   * the limit, whether or not its quote closes there, and the next line starts a record.
   */
  @Test
  void aQuotedRecordOverTheLimitEndsWithTheLineThatTakesItOver() throws IOException {
    String chunk = "y".repeat(1000);
    int lines = CsvRecordReader.MAX_RECORD_CHARS / 1001 + 1; // their line breaks count too
    String open = "1,\"" + (chunk + "\n").repeat(lines);
    CsvRecordReader reader = new CsvRecordReader(new LineReader(new StringReader(
        open + "z\"\n2,ok\n" + "3,\"" + chunk + "\n" + "w".repeat(CsvRecordReader.MAX_RECORD_CHARS) + "\"\n4,ok")), 0);
    CsvRecordReader.Record first = reader.next();
    assertThat(first.line, is(1L));
    long length = 3 + (lines - 1) * 1001L + 1000;
    assertThat(first.error, containsString("CSV record of " + length + " characters (lines 1-" + lines + ")"));
    assertThat(first.text.length(), is(CsvRecordReader.MAX_PAYLOAD_CHARS));
    // Reading goes on with the next line, which was inside the quoted field.
    CsvRecordReader.Record second = reader.next();
    assertThat(second.line, is((long) lines + 1));
    assertThat(second.text, is("z\""));
    assertThat(second.error, nullValue());
    assertThat(reader.next().text, is("2,ok"));
    // Closing its quote on the line that takes it over the limit does not make it fit.
    CsvRecordReader.Record third = reader.next();
    assertThat(third.line, is((long) lines + 3));
    assertThat(third.error, containsString("CSV record of " + (3 + 1000 + 1 + CsvRecordReader.MAX_RECORD_CHARS + 1)
        + " characters (lines " + (lines + 3) + "-" + (lines + 4) + ")"));
    assertThat(reader.next().text, is("4,ok"));
    assertThat(reader.next(), nullValue());
  }

  @Test
  void theCutPayloadDoesNotSplitASurrogatePair() {
    String text = "a".repeat(CsvRecordReader.MAX_PAYLOAD_CHARS - 1) + "\uD83D\uDE00" + "b";
    assertThat(dev.featurebeam.model.QuarantineRecord.keptPart(text), is("a".repeat(CsvRecordReader.MAX_PAYLOAD_CHARS - 1)));
    assertThat(dev.featurebeam.model.QuarantineRecord.keptPart("short"), is("short"));
  }

  @Test
  void literalQuoteInsideAnUnquotedField() throws IOException {
    assertThat(CsvRecordReader.split("a,5\" screen,c"), contains("a", "5\" screen", "c"));
  }

  @Test
  void unterminatedQuoteIsAParseError() throws IOException {
    CsvRecordReader reader =
        new CsvRecordReader(new LineReader(new StringReader("1,\"open\n2,b\n")), 0);
    CsvRecordReader.Record r = reader.next();
    assertThat(r.text, is("1,\"open\n2,b"));
    assertThat(reader.next(), nullValue());
    IOException e = assertThrows(IOException.class, () -> CsvRecordReader.split(r.text));
    assertThat(e.getMessage(), containsString("EOF"));
  }

  /**
   * The hand-written split of simply quoted records against Commons CSV on random text: where it
   * gives values they are Commons CSV's, and it leaves to Commons CSV what it does not handle.
   */
  @Test
  void simplyQuotedSplitAgreesWithCommonsCsv() throws IOException {
    char[] alphabet = {'a', ',', '"', ' ', '\n', 'é'};
    java.util.SplittableRandom random = new java.util.SplittableRandom(42);
    int handled = 0;
    int declined = 0;
    for (int k = 0; k < 50_000; k++) {
      StringBuilder text = new StringBuilder();
      for (int len = random.nextInt(14); len > 0; len--) {
        text.append(alphabet[random.nextInt(alphabet.length)]);
      }
      java.util.List<String> ours = CsvRecordReader.splitSimplyQuoted(text.toString());
      if (ours == null) {
        declined++;
        continue;
      }
      handled++;
      java.util.List<org.apache.commons.csv.CSVRecord> theirs;
      try (org.apache.commons.csv.CSVParser parser =
          org.apache.commons.csv.CSVParser.parse(
              text.toString(), org.apache.commons.csv.CSVFormat.DEFAULT)) {
        theirs = parser.getRecords();
      }
      String where = "text [" + text + "]";
      if (theirs.isEmpty()) {
        // Commons CSV reads "" as no record; the reader never hands it a blank record.
        assertThat(where, text.toString().isBlank(), is(true));
        continue;
      }
      assertThat(where, theirs.size(), is(1));
      assertThat(where, ours, is(theirs.get(0).toList()));
    }
    assertThat(handled > 10_000 && declined > 10_000, is(true));
  }
}
