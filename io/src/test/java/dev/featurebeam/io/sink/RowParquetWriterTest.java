package dev.featurebeam.io.sink;

import static dev.featurebeam.io.sink.SinkFixtures.D1;
import static dev.featurebeam.io.sink.SinkFixtures.SPEC;
import static dev.featurebeam.io.sink.SinkFixtures.row;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.joda.time.ReadableInstant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RowParquetWriterTest {
  @TempDir Path tmp;

  /**
   * The store's writer must give the bytes Beam's ParquetIO sink gives for the same rows as Avro
   * records (what the store wrote before): every column type, nulls, non-ASCII text.
   */
  @Test
  void writesTheBytesParquetIoWritesForTheSameRecords() throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.add(row("ä-user", D1, 3L, 2.5, true, 0, "späť", "2025-01-04T10:00:00.123Z"));
    rows.add(row("u02", D1, 0L, null, false, null, null, null));
    for (int i = 0; i < 2000; i++) {
      rows.add(row(String.format("u%05d", i), D1 + i % 3));
    }
    Schema avroSchema = OfflineSchema.avroSchema(SPEC);
    Configuration conf = new Configuration();

    Path ours = tmp.resolve("ours.parquet");
    try (ParquetWriter<Row> writer = RowParquetWriter.open(ours, avroSchema, conf)) {
      for (Row r : rows) {
        writer.write(r);
      }
    }
    Path viaAvro = tmp.resolve("avro.parquet");
    ParquetIO.Sink sink =
        ParquetIO.sink(avroSchema)
            .withCompressionCodec(CompressionCodecName.SNAPPY)
            .withConfiguration(conf);
    try (FileChannel channel =
        FileChannel.open(viaAvro, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      sink.open(channel);
      for (Row r : rows) {
        sink.write(toRecord(r, avroSchema));
      }
      sink.flush();
    }

    assertThat(Files.size(ours), greaterThan(1000L));
    assertThat(Files.readAllBytes(ours), equalTo(Files.readAllBytes(viaAvro)));
    assertThat(PartitionReader.schema(ours).toString(), is(avroSchema.toString()));
  }

  /** An output row as an Avro record of the store's schema, as the store built them before. */
  private static GenericRecord toRecord(Row row, Schema avroSchema) {
    GenericData.Record record = new GenericData.Record(avroSchema);
    record.put(0, row.getString(0));
    record.put(1, Math.toIntExact(row.getLogicalTypeValue(1, LocalDate.class).toEpochDay()));
    for (int i = 2; i < row.getFieldCount(); i++) {
      Object value = row.getValue(i);
      record.put(i, value instanceof ReadableInstant ? ((ReadableInstant) value).getMillis() : value);
    }
    return record;
  }
}
