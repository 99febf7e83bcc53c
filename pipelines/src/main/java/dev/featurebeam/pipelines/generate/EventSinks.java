package dev.featurebeam.pipelines.generate;

import dev.featurebeam.io.sink.LocalOutputFile;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/** Writers of one output file per format; each streams records straight to disk. */
final class EventSinks {
  private EventSinks() {}

  interface Sink extends Closeable {
    void write(GeneratedEvent e) throws IOException;
  }

  /** RFC 4180 quoting, but "\n" line ends so that line counts and diffs stay simple. */
  static final CSVFormat CSV_FORMAT =
      CSVFormat.RFC4180.builder()
          .setRecordSeparator("\n")
          .setHeader(GeneratedEvent.COLUMNS.toArray(new String[0]))
          .build();

  /** All columns nullable strings except amount (nullable double); ts stays text in every form. */
  static final Schema PARQUET_SCHEMA =
      SchemaBuilder.record("Event").namespace("dev.featurebeam.generated").fields()
          .optionalString("event_id")
          .optionalString("user_id")
          .optionalString("event_type")
          .optionalDouble("amount")
          .optionalString("status")
          .optionalString("category")
          .optionalString("ts")
          .endRecord();

  static Sink open(EventFormat format, Path path) throws IOException {
    switch (format) {
      case CSV:
        return csv(path);
      case JSONL:
        return jsonl(path);
      default:
        return parquet(path);
    }
  }

  private static Sink csv(Path path) throws IOException {
    CSVPrinter printer = new CSVPrinter(Files.newBufferedWriter(path, StandardCharsets.UTF_8), CSV_FORMAT);
    return new Sink() {
      @Override
      public void write(GeneratedEvent e) throws IOException {
        printer.printRecord(e.csvValues());
      }

      @Override
      public void close() throws IOException {
        printer.close(true);
      }
    };
  }

  private static Sink jsonl(Path path) throws IOException {
    BufferedWriter w = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
    return new Sink() {
      @Override
      public void write(GeneratedEvent e) throws IOException {
        w.write(e.toJsonLine());
        w.write('\n');
      }

      @Override
      public void close() throws IOException {
        w.close();
      }
    };
  }

  private static Sink parquet(Path path) throws IOException {
    ParquetWriter<GenericRecord> writer =
        AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(path))
            .withSchema(PARQUET_SCHEMA)
            .withConf(new Configuration())
            .withCompressionCodec(CompressionCodecName.SNAPPY)
            .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
            .build();
    return new Sink() {
      @Override
      public void write(GeneratedEvent e) throws IOException {
        GenericRecord r = new GenericData.Record(PARQUET_SCHEMA);
        r.put("event_id", e.eventId());
        r.put("user_id", e.userId());
        r.put("event_type", e.eventType());
        r.put("amount", e.amountAsDouble());
        r.put("status", e.status());
        r.put("category", e.category());
        r.put("ts", e.ts());
        writer.write(r);
      }

      @Override
      public void close() throws IOException {
        writer.close();
      }
    };
  }
}
