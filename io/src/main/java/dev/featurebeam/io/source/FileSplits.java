package dev.featurebeam.io.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * Where a CSV or JSON-lines file can be cut between records so that its parts are read in
 * parallel: one sequential pass over the bytes, tracking line ends, and open quotes by the rule
 * {@link CsvRecordReader} reads them by ({@link CsvQuoting}), and the first record start at or
 * after every {@code chunkBytes}.
 *
 * <p>Why by hand: Beam's {@code TextIO} splits files at newlines, which cuts a CSV record whose
 * quoted field holds a newline, and numbers no lines (the quarantine names each record's line).
 * The pass only looks at the ASCII bytes {@code " , \r \n}, which UTF-8 never uses inside a
 * multi-byte character, and decodes nothing.
 */
final class FileSplits {
  private FileSplits() {}

  /** A part of a file: bytes [start, end) and how many lines come before it. */
  static final class Range {
    final long start;
    final long end;
    final long linesBefore;

    Range(long start, long end, long linesBefore) {
      this.start = start;
      this.end = end;
      this.linesBefore = linesBefore;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Range
          && ((Range) o).start == start
          && ((Range) o).end == end
          && ((Range) o).linesBefore == linesBefore;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(start) * 31 + Long.hashCode(end);
    }

    @Override
    public String toString() {
      return "[" + start + ", " + end + ") after " + linesBefore + " lines";
    }
  }

  /** A part as three variable-length longs: deterministic, and equal parts encode alike. */
  static final class RangeCoder extends AtomicCoder<Range> {
    private static final VarLongCoder LONG = VarLongCoder.of();
    private static final RangeCoder INSTANCE = new RangeCoder();

    static RangeCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Range range, OutputStream out) throws IOException {
      LONG.encode(range.start, out);
      LONG.encode(range.end, out);
      LONG.encode(range.linesBefore, out);
    }

    @Override
    public Range decode(InputStream in) throws IOException {
      return new Range(LONG.decode(in), LONG.decode(in), LONG.decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }

  /**
   * The parts of a file of {@code size} bytes read from {@code in}, each about {@code chunkBytes}
   * long and starting where a record starts; one part when the file is small, or when a quoted
   * field stays open so long that the reader could cut it ({@link
   * CsvRecordReader#MAX_RECORD_CHARS}) and the reader's record boundaries could differ from these.
   */
  static List<Range> find(InputStream in, long size, boolean csv, long chunkBytes)
      throws IOException {
    List<Range> whole = List.of(new Range(0, size, 0));
    if (size <= chunkBytes) {
      return whole;
    }
    List<long[]> cuts = new ArrayList<>(); // {offset, lines before}
    long nextCut = chunkBytes;
    long lines = 0;
    long recordStart = 0;
    boolean lineStart = true;
    boolean afterCr = false;
    int quote = CsvQuoting.FIELD_START;
    byte[] buffer = new byte[1 << 16];
    long offset = 0;
    int first = 0;
    for (int n = in.readNBytes(buffer, 0, buffer.length); n > 0;
        n = in.readNBytes(buffer, 0, buffer.length)) {
      if (offset == 0 && n >= 3 && buffer[0] == (byte) 0xEF && buffer[1] == (byte) 0xBB
          && buffer[2] == (byte) 0xBF) {
        first = 3; // a byte order mark, which the reader drops before looking for quotes
        offset = 3;
        lineStart = false;
      }
      for (int i = first; i < n; i++, offset++) {
        byte b = buffer[i];
        if (afterCr && b == '\n') {
          afterCr = false; // the \n of a \r\n: still the same line end
          continue;
        }
        afterCr = false;
        if (lineStart) {
          lineStart = false;
          if (!CsvQuoting.open(quote)) {
            // A line that starts outside quotes starts a record.
            recordStart = offset;
            quote = CsvQuoting.FIELD_START;
            if (offset >= nextCut) {
              cuts.add(new long[] {offset, lines});
              nextCut = offset + chunkBytes;
            }
          }
        }
        if (b == '\n' || b == '\r') {
          lines++;
          lineStart = true;
          afterCr = b == '\r';
          if (CsvQuoting.open(quote) && offset - recordStart >= CsvRecordReader.MAX_RECORD_CHARS) {
            return whole;
          }
          continue;
        }
        if (csv) {
          quote = CsvQuoting.next(quote, b);
        }
      }
      first = 0;
    }
    List<Range> ranges = new ArrayList<>();
    long start = 0;
    long before = 0;
    for (long[] cut : cuts) {
      if (cut[0] < size) {
        ranges.add(new Range(start, cut[0], before));
        start = cut[0];
        before = cut[1];
      }
    }
    ranges.add(new Range(start, size, before));
    return ranges;
  }
}
