package dev.featurebeam.io.source;

import dev.featurebeam.io.sink.LocalOutputFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.schema.MessageType;

/** Writes small Parquet files for tests, straight to a local path (no Hadoop .crc side files). */
final class ParquetTestFiles {
  private ParquetTestFiles() {}

  /** Written by parquet-avro: the file keeps its Avro schema in the footer. */
  static void writeAvro(Path path, Schema schema, List<GenericRecord> records) throws IOException {
    try (ParquetWriter<GenericRecord> writer =
        AvroParquetWriter.<GenericRecord>builder(localFile(path)).withSchema(schema).build()) {
      for (GenericRecord r : records) {
        writer.write(r);
      }
    }
  }

  /** Written without Avro, as other tools do: the reader derives the schema from Parquet types. */
  static void writeGroups(Path path, MessageType type, List<Group> groups) throws IOException {
    try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(localFile(path)).withType(type).build()) {
      for (Group g : groups) {
        writer.write(g);
      }
    }
  }

  static OutputFile localFile(Path path) {
    return new LocalOutputFile(path);
  }
}
