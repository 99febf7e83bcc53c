package dev.featurebeam.io.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
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
 * Reads a partition of the offline store back: the {@code part-*.parquet} files its manifest lists,
 * checked against their sha256, in file-name order (so the rows come in the store's own order: by
 * shard, then by entity). Used by the {@code show} command, the JDBC feature table, training sets
 * in snapshot mode, the benchmarks and tests. A remote partition is read through {@link #fetch}.
 */
public final class PartitionReader {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CSVFormat CSV = CSVFormat.DEFAULT.builder().setRecordSeparator('\n').build();

  private PartitionReader() {}

  /**
   * The partition's Parquet files as its {@code _MANIFEST.json} lists them (sorted by name), each
   * checked against the manifest's sha256: a reader trusts a partition only through its manifest,
   * so a folder without one is not a partition, and a file the manifest does not list is never
   * read.
   *
   * @throws IllegalArgumentException when the folder has no manifest (not published)
   * @throws IllegalStateException when a listed file is missing or its bytes do not match
   */
  public static List<Path> files(Path partitionDir) {
    Path manifest = partitionDir.resolve(OfflineStore.MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      throw new IllegalArgumentException("no " + OfflineStore.MANIFEST + " in " + partitionDir
          + ": not a published partition");
    }
    List<Path> files = new ArrayList<>();
    try {
      for (JsonNode f : JSON.readTree(manifest.toFile()).get("files")) {
        Path file = partitionDir.resolve(f.get("name").asText());
        if (!Files.isRegularFile(file)) {
          throw new IllegalStateException(file + " is listed in " + manifest + " but missing");
        }
        if (!OfflineStore.sha256(file).equals(f.get("sha256").asText())) {
          throw new IllegalStateException(file + " does not match the sha256 of " + manifest
              + " (the partition changed while it was read, or was altered)");
        }
        files.add(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read partition " + partitionDir, e);
    }
    files.sort(null);
    return files;
  }

  /**
   * Copies a published partition given as a location (local or {@code hdfs://…}, {@code s3://…})
   * into the local folder {@code into}: its manifest and the files it lists, each checked against
   * the manifest's sha256. A partition being republished meanwhile (no manifest for a moment, or
   * files that no longer match the manifest read first) is read again, up to 5 times over about
   * 10 s, before this fails.
   *
   * @return {@code into}, which then reads as a local partition
   * @throws IllegalArgumentException when the partition has no manifest (not published)
   */
  public static Path fetch(String partition, Path into) {
    if (!StoreLocation.isRemote(partition)) {
      files(StoreLocation.localPath(partition)); // checks it
      return StoreLocation.localPath(partition);
    }
    RemoteFs fs = StoreLocation.fs(partition);
    String manifest = StoreLocation.join(partition, OfflineStore.MANIFEST);
    RuntimeException last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        if (attempt > 0) {
          Thread.sleep(2000);
        }
        byte[] bytes = fs.readIfFile(manifest);
        if (bytes == null) {
          last = new IllegalArgumentException("no " + OfflineStore.MANIFEST + " in " + partition
              + ": not a published partition");
          continue;
        }
        Files.createDirectories(into);
        for (JsonNode f : JSON.readTree(bytes).get("files")) {
          String name = f.get("name").asText();
          Path local = into.resolve(name);
          fs.download(StoreLocation.join(partition, name), local);
          if (!OfflineStore.sha256(local).equals(f.get("sha256").asText())) {
            throw new IllegalStateException(partition + "/" + name
                + " does not match the sha256 of its manifest");
          }
        }
        Files.write(into.resolve(OfflineStore.MANIFEST), bytes);
        return into;
      } catch (IOException | IllegalStateException e) {
        last = e instanceof IllegalStateException ? (IllegalStateException) e
            : new UncheckedIOException("cannot read " + partition + ": " + e.getMessage(),
                (IOException) e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while reading " + partition);
      }
    }
    throw last;
  }

  /** {@link #printCsv(Path, PrintStream)} of a partition given as a location, local or remote. */
  public static void printCsv(String partition, PrintStream out) {
    if (!StoreLocation.isRemote(partition)) {
      printCsv(StoreLocation.localPath(partition), out);
      return;
    }
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("featurebeam-show-");
      printCsv(fetch(partition, tmp), out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (tmp != null) {
        try {
          OfflineStore.deleteRecursively(tmp);
        } catch (IOException ignored) {
          // a temporary folder
        }
      }
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
