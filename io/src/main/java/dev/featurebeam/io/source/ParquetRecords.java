package dev.featurebeam.io.source;

import dev.featurebeam.model.RawRecord;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.annotation.Nullable;
import org.apache.avro.Conversions;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/** Parquet helpers shared by the reader and the contract check: file access, schema, rendering. */
final class ParquetRecords {
  /** Where parquet-avro writers keep the original Avro schema; the reader prefers it too. */
  private static final String AVRO_SCHEMA_KEY = "parquet.avro.schema";

  private static final Conversions.DecimalConversion DECIMAL = new Conversions.DecimalConversion();

  /** The Julian day number of 1970-01-01, for INT96 timestamps. */
  private static final long JULIAN_EPOCH_DAY = 2_440_588L;

  /**
   * The reading configuration. Legacy INT96 timestamps (Spark's and Hive's default) cannot be
   * expressed in Avro; read them as 12-byte fixed values and decode them in {@link #render}.
   */
  static Configuration conf() {
    Configuration conf = new Configuration();
    conf.setBoolean("parquet.avro.readInt96AsFixed", true);
    return conf;
  }

  /** Whether an Avro type is a legacy INT96 timestamp read as fixed bytes. */
  static boolean isInt96(Schema type) {
    return type.getType() == Schema.Type.FIXED && type.getName().equals("INT96")
        && type.getFixedSize() == 12;
  }

  private ParquetRecords() {}

  /** A Parquet {@link InputFile} over a Beam channel, so any Beam file system can be read. */
  static InputFile inputFile(SeekableByteChannel channel) {
    return new InputFile() {
      @Override
      public long getLength() throws IOException {
        return channel.size();
      }

      @Override
      public SeekableInputStream newStream() {
        return new DelegatingSeekableInputStream(Channels.newInputStream(channel)) {
          @Override
          public long getPos() throws IOException {
            return channel.position();
          }

          @Override
          public void seek(long newPos) throws IOException {
            channel.position(newPos);
          }
        };
      }
    };
  }

  /** The Avro schema records of this file are read with (from its footer; no data is read). */
  static Schema avroSchema(InputFile file) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(file)) {
      String avro = reader.getFileMetaData().getKeyValueMetaData().get(AVRO_SCHEMA_KEY);
      if (avro != null) {
        return new Schema.Parser().parse(avro);
      }
      return new AvroSchemaConverter(conf()).convert(reader.getFileMetaData().getSchema());
    }
  }

  /** The record at {@code source}, its top-level fields as text in schema order; see {@link #render}. */
  static RawRecord record(String source, GenericRecord record) {
    Map<String, String> fields = new LinkedHashMap<>();
    Set<String> nested = new HashSet<>();
    for (Schema.Field f : record.getSchema().getFields()) {
      Object value = record.get(f.pos());
      fields.put(f.name(), render(value, f.schema()));
      if (value instanceof GenericRecord || value instanceof Collection || value instanceof Map) {
        nested.add(f.name());
      }
    }
    return RawRecord.of(source, record.toString(), fields, nested);
  }

  /**
   * One value as text: strings and numbers as written, timestamps (UTC-adjusted, legacy INT96 ones
   * too) as ISO-8601 instants to the millisecond ({@code 2025-01-05T10:00:00.123Z}; not epoch
   * numbers, which a field declared {@code epoch_seconds} would misread), local timestamps as ISO
   * local date-time (so that validation reads them in the spec's source zone), dates as ISO dates,
   * decimals in plain notation, binary as UTF-8 text (older writers store strings without a string
   * annotation), nested values as JSON text.
   */
  static @Nullable String render(@Nullable Object value, Schema schema) {
    if (value == null) {
      return null;
    }
    Schema type = schema.getType() == Schema.Type.UNION
        ? schema.getTypes().get(GenericData.get().resolveUnion(schema, value))
        : schema;
    LogicalType logical = type.getLogicalType();
    String name = logical == null ? "" : logical.getName();
    switch (name) {
      case "timestamp-millis":
      case "timestamp-micros":
        return Instant.ofEpochMilli(epochMillis(value, name)).toString();
      case "local-timestamp-millis":
      case "local-timestamp-micros":
        return DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(
            LocalDateTime.ofInstant(Instant.ofEpochMilli(epochMillis(value, name)), ZoneOffset.UTC));
      case "date":
        return value instanceof LocalDate ? value.toString()
            : LocalDate.ofEpochDay(((Number) value).longValue()).toString();
      case "decimal":
        return decimal(value, type).toPlainString();
      default:
        break;
    }
    switch (type.getType()) {
      case BYTES:
        return StandardCharsets.UTF_8.decode(((ByteBuffer) value).duplicate()).toString();
      case FIXED:
        if (isInt96(type)) {
          return Instant.ofEpochMilli(int96Millis(((GenericFixed) value).bytes())).toString();
        }
        return new String(((GenericFixed) value).bytes(), StandardCharsets.UTF_8);
      case RECORD:
      case ARRAY:
      case MAP:
        return GenericData.get().toString(value);
      default:
        return value.toString(); // string, enum, boolean, int, long, float, double
    }
  }

  /** Epoch millis of a raw (long) or already converted timestamp value; micros round down. */
  private static long epochMillis(Object value, String logicalName) {
    if (value instanceof Instant) {
      return ((Instant) value).toEpochMilli();
    }
    if (value instanceof LocalDateTime) {
      return ((LocalDateTime) value).toInstant(ZoneOffset.UTC).toEpochMilli();
    }
    long raw = ((Number) value).longValue();
    return logicalName.endsWith("micros") ? Math.floorDiv(raw, 1000L) : raw;
  }

  /** INT96: nanoseconds of the day (8 bytes), then the Julian day (4 bytes), little-endian. */
  private static long int96Millis(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long nanosOfDay = buf.getLong();
    long julianDay = buf.getInt();
    return (julianDay - JULIAN_EPOCH_DAY) * 86_400_000L + Math.floorDiv(nanosOfDay, 1_000_000L);
  }

  private static BigDecimal decimal(Object value, Schema type) {
    if (value instanceof BigDecimal) {
      return (BigDecimal) value;
    }
    LogicalTypes.Decimal logical = (LogicalTypes.Decimal) type.getLogicalType();
    return value instanceof GenericFixed
        ? DECIMAL.fromFixed((GenericFixed) value, type, logical)
        : DECIMAL.fromBytes(((ByteBuffer) value).duplicate(), type, logical);
  }
}
