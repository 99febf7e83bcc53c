package dev.featurebeam.io.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.not;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.Encoding;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.Util;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same rows give the same bytes whatever order parquet-java put the encodings in. */
class ParquetFootersTest {
  static final Schema SCHEMA = new Schema.Parser().parse(
      "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
          + "{\"name\":\"id\",\"type\":\"string\"},"
          + "{\"name\":\"x\",\"type\":[\"null\",\"double\"],\"default\":null}]}");

  @Test
  void permutedEncodingListsNormalizeToTheSameBytes(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("a.parquet");
    write(file);
    // Two copies with every list in opposite orders, as two JVMs' hash orders might give: the
    // file's own order is random, so both orders are set explicitly.
    Path ascending = dir.resolve("asc.parquet");
    Path descending = dir.resolve("desc.parquet");
    Files.copy(file, ascending);
    Files.copy(file, descending);
    assertThat(reorder(ascending, false), greaterThan(0));
    reorder(descending, true);
    assertThat(Files.readAllBytes(descending), not(equalTo(Files.readAllBytes(ascending))));

    ParquetFooters.normalize(file);
    ParquetFooters.normalize(ascending);
    ParquetFooters.normalize(descending);

    assertThat(Files.readAllBytes(descending), equalTo(Files.readAllBytes(file)));
    assertThat(Files.readAllBytes(ascending), equalTo(Files.readAllBytes(file)));
    for (org.apache.parquet.format.RowGroup g : footer(file).getRow_groups()) {
      for (ColumnChunk c : g.getColumns()) {
        List<Integer> values = c.getMeta_data().getEncodings().stream()
            .map(Encoding::getValue).collect(Collectors.toList());
        List<Integer> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        assertThat(values, equalTo(sorted));
      }
    }
    // The data is untouched: the rows read back as written.
    List<GenericRecord> rows = PartitionReader.readFile(descending);
    assertThat(rows.size(), equalTo(5000));
    assertThat(rows.get(4999).get("x"), equalTo(4999 * 1.37));
    // Normalizing twice changes nothing.
    byte[] once = Files.readAllBytes(file);
    ParquetFooters.normalize(file);
    assertThat(Files.readAllBytes(file), equalTo(once));
  }

  /** Sorts every encoding list with more than one entry; returns how many lists that is. */
  private static int reorder(Path file, boolean descending) throws IOException {
    FileMetaData md = footer(file);
    int lists = 0;
    for (org.apache.parquet.format.RowGroup g : md.getRow_groups()) {
      for (ColumnChunk c : g.getColumns()) {
        List<Encoding> e = new ArrayList<>(c.getMeta_data().getEncodings());
        if (e.size() > 1) {
          e.sort((a, b) -> descending
              ? Integer.compare(b.getValue(), a.getValue())
              : Integer.compare(a.getValue(), b.getValue()));
          c.getMeta_data().setEncodings(e);
          lists++;
        }
      }
    }
    replaceFooter(file, md);
    return lists;
  }

  /** 5,000 distinct doubles: the dictionary overflows and falls back to plain, 3+ encodings. */
  private static void write(Path file) throws IOException {
    ParquetIO.Sink sink = ParquetIO.sink(SCHEMA).withCompressionCodec(CompressionCodecName.SNAPPY);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      sink.open(channel);
      for (int i = 0; i < 5000; i++) {
        GenericRecord r = new GenericData.Record(SCHEMA);
        r.put("id", "u" + i);
        r.put("x", i % 7 == 0 ? null : i * 1.37);
        sink.write(r);
      }
      sink.flush();
    }
  }

  private static FileMetaData footer(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int length = ByteBuffer.wrap(bytes, bytes.length - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    return Util.readFileMetaData(
        new ByteArrayInputStream(bytes, bytes.length - 8 - length, length));
  }

  private static void replaceFooter(Path file, FileMetaData md) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int length = ByteBuffer.wrap(bytes, bytes.length - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Util.writeFileMetaData(md, out);
    assertThat(out.size(), equalTo(length));
    System.arraycopy(out.toByteArray(), 0, bytes, bytes.length - 8 - length, length);
    Files.write(file, bytes);
  }
}
