package dev.featurebeam.io.sink;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.InputFile;

/**
 * Reads a partition of the offline store back: its {@code part-*.parquet} files in file-name order
 * (so the rows come in the store's own order: by shard, then by entity). Used by the {@code show}
 * command and by tests.
 */
public final class PartitionReader {
  private static final CSVFormat CSV = CSVFormat.DEFAULT.builder().setRecordSeparator('\n').build();

  private PartitionReader() {}

  /** The partition's Parquet files, sorted by name. */
  public static List<Path> files(Path partitionDir) {
    try (Stream<Path> list = Files.list(partitionDir)) {
      return list.filter(
              p -> {
                String n = p.getFileName().toString();
                return n.startsWith("part-") && n.endsWith(".parquet");
              })
          .sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list partition " + partitionDir, e);
    }
  }

  /** Every row of the partition, file by file. */
  public static List<GenericRecord> read(Path partitionDir) {
    List<GenericRecord> rows = new ArrayList<>();
    for (Path file : files(partitionDir)) {
      rows.addAll(readFile(file));
    }
    return rows;
  }

  /**
   * The rows of one Parquet file, with raw Avro values: {@code date} columns as Integer epoch days,
   * {@code timestamp-millis} columns as Long epoch millis, strings as Avro {@code Utf8}.
   */
  public static List<GenericRecord> readFile(Path file) {
    List<GenericRecord> rows = new ArrayList<>();
    try (ParquetReader<GenericRecord> reader = open(file)) {
      for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
        rows.add(r);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return rows;
  }

  /**
   * A reader of one Parquet file's rows, one at a time, with the raw Avro values of {@link
   * #readFile}: for a caller that must not hold a whole partition in memory.
   */
  public static ParquetReader<GenericRecord> open(Path file) throws IOException {
    return AvroParquetReader.<GenericRecord>builder(inputFile(file))
        .withDataModel(GenericData.get())
        .build();
  }

  /** The Avro schema a file was written with (known even when the file has no rows). */
  public static Schema schema(Path file) {
    try (ParquetFileReader reader = ParquetFileReader.open(inputFile(file))) {
      FileMetaData meta = reader.getFooter().getFileMetaData();
      String avro = meta.getKeyValueMetaData().get("parquet.avro.schema");
      return avro != null
          ? new Schema.Parser().parse(avro)
          : new AvroSchemaConverter().convert(meta.getSchema());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the footer of " + file, e);
    }
  }

  /**
   * Prints the partition as CSV: a header of the column names in schema order, then one line per
   * row. Dates print as YYYY-MM-DD, timestamps as ISO-8601 UTC, doubles as {@link
   * Double#toString(double)} (20.0 stays 20.0), nulls as empty fields.
   */
  public static void printCsv(Path partitionDir, PrintStream out) {
    List<Path> files = files(partitionDir);
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no part-*.parquet files in " + partitionDir);
    }
    List<Schema.Field> fields = schema(files.get(0)).getFields();
    try {
      CSVPrinter csv = new CSVPrinter(out, CSV);
      for (Schema.Field f : fields) {
        csv.print(f.name());
      }
      csv.println();
      for (Path file : files) {
        for (GenericRecord r : readFile(file)) {
          for (Schema.Field f : fields) {
            csv.print(format(r.get(f.name()), f.schema()));
          }
          csv.println();
        }
      }
      csv.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One value as text; null for null. */
  static String format(Object value, Schema fieldSchema) {
    if (value == null) {
      return null;
    }
    LogicalType logical = OfflineSchema.nonNull(fieldSchema).getLogicalType();
    if (logical instanceof LogicalTypes.Date && value instanceof Integer) {
      return LocalDate.ofEpochDay((Integer) value).toString();
    }
    if (logical instanceof LogicalTypes.TimestampMillis && value instanceof Long) {
      return Instant.ofEpochMilli((Long) value).toString();
    }
    return value.toString();
  }

  private static InputFile inputFile(Path file) throws IOException {
    return HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toAbsolutePath().toUri()), new Configuration());
  }
}
