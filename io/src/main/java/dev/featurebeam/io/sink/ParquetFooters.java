package dev.featurebeam.io.sink;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.ColumnMetaData;
import org.apache.parquet.format.Encoding;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.PageEncodingStats;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.format.Util;

/**
 * Puts a Parquet footer's per-column encoding lists in a fixed order.
 *
 * <p>parquet-java collects a column's encodings in a {@code HashSet} of enums and writes them in
 * its iteration order, which follows identity hash codes and so changes from one JVM to the next
 * (apache/parquet-java#3215, unfixed in any release): the same rows gave files that differ in two
 * footer bytes. Sorting a Thrift list keeps its encoded length, so the footer is rewritten in place
 * and the data pages are untouched.
 */
public final class ParquetFooters {
  private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);

  private ParquetFooters() {}

  /** Rewrites {@code file}'s footer with sorted encodings; does nothing when already sorted. */
  public static void normalize(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, tail, size - 8);
      int footerLength = tail.getInt(0);
      for (int i = 0; i < 4; i++) {
        if (tail.get(4 + i) != MAGIC[i]) {
          throw new IOException(file + " is not a Parquet file");
        }
      }
      long footerStart = size - 8 - footerLength;
      ByteBuffer footer = ByteBuffer.allocate(footerLength);
      readFully(channel, footer, footerStart);
      FileMetaData metadata = Util.readFileMetaData(new ByteArrayInputStream(footer.array()));
      if (!sort(metadata)) {
        return;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream(footerLength);
      Util.writeFileMetaData(metadata, out);
      if (out.size() != footerLength) {
        throw new IOException("sorting the encodings of " + file + " changed its footer length");
      }
      ByteBuffer rewritten = ByteBuffer.wrap(out.toByteArray());
      while (rewritten.hasRemaining()) {
        channel.write(rewritten, footerStart + rewritten.position());
      }
    }
  }

  /** Sorts every column chunk's encodings and encoding stats; true if anything moved. */
  static boolean sort(FileMetaData metadata) {
    boolean changed = false;
    for (RowGroup group : metadata.getRow_groups()) {
      for (ColumnChunk chunk : group.getColumns()) {
        ColumnMetaData column = chunk.getMeta_data();
        if (column == null) {
          continue;
        }
        List<Encoding> encodings = new ArrayList<>(column.getEncodings());
        encodings.sort(Comparator.comparingInt(Encoding::getValue));
        if (!encodings.equals(column.getEncodings())) {
          column.setEncodings(encodings);
          changed = true;
        }
        if (column.isSetEncoding_stats()) {
          List<PageEncodingStats> stats = new ArrayList<>(column.getEncoding_stats());
          stats.sort(Comparator.comparingInt((PageEncodingStats s) -> s.getPage_type().getValue())
              .thenComparingInt(s -> s.getEncoding().getValue()));
          if (!stats.equals(column.getEncoding_stats())) {
            column.setEncoding_stats(stats);
            changed = true;
          }
        }
      }
    }
    return changed;
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position)
      throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, position + buffer.position()) < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }
}
