package dev.featurebeam.io.source;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.FieldType;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Schema;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * The check a driver runs before it builds a pipeline over a file source ("fail fast on
 * contract breaks"): the files exist, every CSV header and Parquet schema holds the spec's required
 * fields, and Parquet column types can hold the declared types. Only headers and footers are read.
 * JSON lines carry no schema: a missing field there quarantines its record later.
 */
public final class SourceContract {
  private SourceContract() {}

  /**
   * Matches {@code pathOrGlob} and checks each file against {@code spec}.
   *
   * @return the matched files, sorted by path, for the run's lineage
   * @throws SchemaContractException when nothing matches or a file breaks the contract
   * @throws UncheckedIOException when the files cannot be listed or read
   */
  public static List<SourceFile> check(FeatureSpec spec, String pathOrGlob) {
    List<MatchResult.Metadata> matched;
    try {
      MatchResult result = FileSystems.match(pathOrGlob, EmptyMatchTreatment.ALLOW);
      matched = result.status() == MatchResult.Status.NOT_FOUND ? List.of() : result.metadata();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + pathOrGlob + ": " + e.getMessage(), e);
    }
    if (matched.isEmpty()) {
      throw new SchemaContractException("no file matches " + pathOrGlob);
    }
    List<SourceFile> files = new ArrayList<>();
    for (MatchResult.Metadata m : matched) {
      String path = m.resourceId().toString();
      FileFormat format;
      try {
        format = FileFormat.of(path);
      } catch (IllegalArgumentException e) {
        throw new SchemaContractException(e.getMessage(), e);
      }
      try {
        if (format == FileFormat.CSV) {
          checkCsv(spec, path, m.resourceId());
        } else if (format == FileFormat.PARQUET) {
          checkParquet(spec, path, m.resourceId());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
      }
      files.add(SourceFile.of(path, m.sizeBytes(), format));
    }
    files.sort(Comparator.comparing(SourceFile::path));
    return files;
  }

  private static void checkCsv(FeatureSpec spec, String path, ResourceId file) throws IOException {
    List<String> header = List.of();
    try (LineReader in = new LineReader(new InputStreamReader(
        Channels.newInputStream(FileSystems.open(file)), StandardCharsets.UTF_8))) {
      CsvRecordReader.Record first = new CsvRecordReader(in, 0).nextNonBlank();
      if (first != null) {
        header = CsvRecordReader.header(path, first);
      }
    } catch (IllegalArgumentException e) {
      throw new SchemaContractException(e.getMessage(), e);
    }
    Set<String> names = new HashSet<>();
    for (String name : header) {
      if (!names.add(name)) {
        // A record would keep only one of the two values; refuse to guess which.
        throw new SchemaContractException(
            "source file " + path + " has the column '" + name + "' twice in its header");
      }
    }
    requireFields(spec, path, names);
  }

  private static void checkParquet(FeatureSpec spec, String path, ResourceId file)
      throws IOException {
    Schema schema;
    try (ReadableByteChannel channel = FileSystems.open(file)) {
      if (!(channel instanceof SeekableByteChannel)) {
        throw new IOException("its file system cannot seek, which Parquet needs");
      }
      schema = ParquetRecords.avroSchema(ParquetRecords.inputFile((SeekableByteChannel) channel));
    } catch (RuntimeException e) {
      // Not a Parquet file, or a column type parquet-avro cannot convert.
      throw new SchemaContractException(
          "cannot read the Parquet schema of " + path + ": " + e.getMessage(), e);
    }
    Set<String> names = new HashSet<>();
    for (Schema.Field f : schema.getFields()) {
      names.add(f.name());
    }
    requireFields(spec, path, names);
    for (FieldSpec declared : spec.fields()) {
      Schema.Field column = schema.getField(declared.name());
      if (column != null && !compatible(declared.type(), column.schema())) {
        throw new SchemaContractException(
            "source file " + path + " has field '" + declared.name() + "' of type "
                + describe(column.schema()) + ", which cannot hold the declared type "
                + declared.type().yamlName());
      }
    }
  }

  private static void requireFields(FeatureSpec spec, String path, Set<String> present) {
    List<String> missing = new ArrayList<>();
    for (FieldSpec f : spec.fields()) {
      if (f.required() && !present.contains(f.name())) {
        missing.add("'" + f.name() + "'");
      }
    }
    if (!missing.isEmpty()) {
      throw new SchemaContractException("source file " + path + " lacks required field"
          + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing));
    }
  }

  /**
   * Whether values of an Avro column, rendered as {@link ParquetRecords#render} does, parse as the
   * declared type: STRING from any non-nested type; LONG from int/long; DOUBLE from int/long/float/
   * double/decimal; BOOLEAN from boolean; TIMESTAMP from long (plain or a timestamp type), legacy
   * INT96, date or string. Dates and timestamps (UTC or local) render as ISO text, so they are not
   * numbers.
   */
  static boolean compatible(FieldType declared, Schema column) {
    Schema type = nonNull(column);
    if (type == null) {
      return false; // a union of several types: no single rendering to check
    }
    Schema.Type t = type.getType();
    String logical = type.getLogicalType() == null ? "" : type.getLogicalType().getName();
    if (ParquetRecords.isInt96(type)) {
      return declared == FieldType.TIMESTAMP || declared == FieldType.STRING; // ISO text
    }
    boolean isoText = logical.equals("date") || logical.contains("timestamp");
    boolean integral = (t == Schema.Type.INT || t == Schema.Type.LONG) && !isoText;
    switch (declared) {
      case STRING:
        return t != Schema.Type.RECORD && t != Schema.Type.ARRAY && t != Schema.Type.MAP;
      case LONG:
        return integral;
      case DOUBLE:
        return integral || t == Schema.Type.FLOAT || t == Schema.Type.DOUBLE
            || logical.equals("decimal");
      case BOOLEAN:
        return t == Schema.Type.BOOLEAN;
      case TIMESTAMP:
        return (t == Schema.Type.LONG && (logical.isEmpty() || logical.contains("timestamp")))
            || logical.equals("date") || t == Schema.Type.STRING;
      default:
        return false;
    }
  }

  /** The one non-null branch of a nullable column, the column itself, or null for a wider union. */
  private static @Nullable Schema nonNull(Schema column) {
    if (column.getType() != Schema.Type.UNION) {
      return column;
    }
    Schema only = null;
    for (Schema branch : column.getTypes()) {
      if (branch.getType() != Schema.Type.NULL) {
        if (only != null) {
          return null;
        }
        only = branch;
      }
    }
    return only;
  }

  private static String describe(Schema column) {
    Schema type = nonNull(column);
    if (type == null) {
      return column.toString();
    }
    if (ParquetRecords.isInt96(type)) {
      return "int96";
    }
    return type.getType().getName()
        + (type.getLogicalType() == null ? "" : " (" + type.getLogicalType().getName() + ")");
  }
}
