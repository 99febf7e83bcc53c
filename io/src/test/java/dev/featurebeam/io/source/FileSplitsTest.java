package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.lessThan;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.Test;

class FileSplitsTest {
  private static List<FileSplits.Range> find(String text, boolean csv, long chunk)
      throws Exception {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return FileSplits.find(new ByteArrayInputStream(bytes), bytes.length, csv, chunk);
  }

  @Test
  void rangesHaveADeterministicCoderOfAFewBytes() throws Exception {
    FileSplits.RangeCoder coder = FileSplits.RangeCoder.of();
    for (FileSplits.Range r : List.of(new FileSplits.Range(0, 0, 0),
        new FileSplits.Range(8, 10, 3), new FileSplits.Range(1L << 40, Long.MAX_VALUE, 1L << 33))) {
      CoderProperties.coderDecodeEncodeEqual(coder, r);
      CoderProperties.coderDeterministic(coder, r, new FileSplits.Range(r.start, r.end, r.linesBefore));
      CoderProperties.coderConsistentWithEquals(coder, r, new FileSplits.Range(r.start, r.end, 7));
      CoderProperties.structuralValueDecodeEncodeEqual(coder, r);
    }
    CoderProperties.coderSerializable(coder);
    coder.verifyDeterministic();
    FileSplits.Range typical = new FileSplits.Range(33_554_432, 67_108_890, 401_227);
    assertThat(CoderUtils.encodeToByteArray(coder, typical).length, lessThan(16));
  }

  @Test
  void cutsOnlyWhereARecordStarts() throws Exception {
    // Line starts at 2 ("x...), 5 (y", inside the quote) and 8 (z): the cut after 3 is at 8.
    assertThat(
        find("h\n\"x\ny\"\nz\n", true, 3),
        contains(new FileSplits.Range(0, 8, 0), new FileSplits.Range(8, 10, 3)));
    // JSON lines have no quoted line breaks: every line start can be a cut.
    assertThat(
        find("h\n\"x\ny\"\nz\n", false, 3),
        contains(
            new FileSplits.Range(0, 5, 0),
            new FileSplits.Range(5, 8, 2),
            new FileSplits.Range(8, 10, 3)));
  }

  @Test
  void countsCrLfOnceAndALoneCrAsALineEnd() throws Exception {
    // Lines: "a" (CRLF), "b" (CR), "c" (LF), "d": starts at 0, 3, 5, 7.
    assertThat(
        find("a\r\nb\rc\nd", true, 1),
        contains(
            new FileSplits.Range(0, 3, 0),
            new FileSplits.Range(3, 5, 1),
            new FileSplits.Range(5, 7, 2),
            new FileSplits.Range(7, 8, 3)));
  }

  @Test
  void aQuoteOpensAFieldOnlyAtItsStartAndDoubledQuotesStayInside() throws Exception {
    // a"b does not open a quote; "x""\ny" stays open across the line end, so the line start
    // at 13 is no cut; 8 and 18 are.
    assertThat(
        find("h\na\"b,1\n\"x\"\"\ny\",2\nz\n", true, 4),
        contains(
            new FileSplits.Range(0, 8, 0),
            new FileSplits.Range(8, 18, 2),
            new FileSplits.Range(18, 20, 4)));
  }

  @Test
  void aVeryLongQuotedFieldKeepsTheFileWhole() throws Exception {
    // The reader cuts a quoted field after MAX_RECORD_CHARS; past that, cuts could disagree.
    String text = "h\n1,\"" + "x\n".repeat(CsvRecordReader.MAX_RECORD_CHARS / 2 + 1) + "\"\n2\n";
    assertThat(find(text, true, 1000), contains(new FileSplits.Range(0, text.length(), 0)));
  }
}
