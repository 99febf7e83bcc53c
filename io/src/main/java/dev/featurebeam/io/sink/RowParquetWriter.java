package dev.featurebeam.io.sink;

import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.apache.beam.sdk.values.Row;
import org.joda.time.ReadableInstant;

/**
 * Writes output rows to a Parquet file straight from Beam {@link Row}s, giving the same bytes as
 * Beam's {@code ParquetIO.sink} with the store's Avro schema ({@link OfflineSchema}): the same
 * Parquet schema (converted from the Avro one), the same footer metadata ({@code
 * parquet.avro.schema}, {@code writer.model.name=avro}), Snappy, 128 MB row groups.
 *
 * <p>Why not ParquetIO's sink: it takes Avro records, and building one per row and writing it
 * through parquet-avro (which resolves every nullable field's union per value) was a third of the
 * store's time. The offline store's tests read the files back with parquet-avro.
 */
final class RowParquetWriter {
  /** What ParquetIO's sink uses; the files are far smaller, so each has one row group. */
  private static final int ROW_GROUP_BYTES = 128 * 1024 * 1024;

  /** Where parquet-avro keeps a file's Avro schema (its constant for it is package-private). */
  static final String AVRO_SCHEMA_KEY = "parquet.avro.schema";

  private RowParquetWriter() {}

  /** A writer of rows whose columns are {@code avroSchema}'s fields, in order. */
  static ParquetWriter<Row> open(Path file, Schema avroSchema, Configuration conf)
      throws IOException {
    return new Builder(new LocalOutputFile(file), avroSchema)
        .withConf(conf)
        .withCompressionCodec(CompressionCodecName.SNAPPY)
        .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
        .withRowGroupSize(ROW_GROUP_BYTES)
        .build();
  }

  private static final class Builder extends ParquetWriter.Builder<Row, Builder> {
    private final Schema avroSchema;

    Builder(OutputFile file, Schema avroSchema) {
      super(file);
      this.avroSchema = avroSchema;
    }

    @Override
    protected Builder self() {
      return this;
    }

    @Override
    protected WriteSupport<Row> getWriteSupport(Configuration conf) {
      return new RowWriteSupport(avroSchema);
    }
  }

  /** Writes each non-null value of a row to its column, as parquet-avro does for a record. */
  private static final class RowWriteSupport extends WriteSupport<Row> {
    private final Schema avroSchema;
    private List<Type> columns;
    private RecordConsumer consumer;

    RowWriteSupport(Schema avroSchema) {
      this.avroSchema = avroSchema;
    }

    @Override
    public WriteContext init(Configuration conf) {
      MessageType schema = new AvroSchemaConverter(conf).convert(avroSchema);
      columns = schema.getFields();
      Map<String, String> metadata = new HashMap<>();
      metadata.put(AVRO_SCHEMA_KEY, avroSchema.toString());
      return new WriteContext(schema, metadata);
    }

    /** Recorded in the footer as writer.model.name, as parquet-avro's writer does. */
    @Override
    public String getName() {
      return "avro";
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
      this.consumer = recordConsumer;
    }

    @Override
    public void write(Row row) {
      consumer.startMessage();
      for (int i = 0; i < columns.size(); i++) {
        Object value = i == 1 ? row.getLogicalTypeValue(1, LocalDate.class) : row.getValue(i);
        if (value == null) {
          continue; // an optional column; the entity and the date are never null
        }
        String name = columns.get(i).getName();
        consumer.startField(name, i);
        if (value instanceof String) {
          consumer.addBinary(Binary.fromString((String) value));
        } else if (value instanceof Long) {
          consumer.addLong((Long) value);
        } else if (value instanceof Double) {
          consumer.addDouble((Double) value);
        } else if (value instanceof Boolean) {
          consumer.addBoolean((Boolean) value);
        } else if (value instanceof Integer) {
          consumer.addInteger((Integer) value);
        } else if (value instanceof LocalDate) {
          consumer.addInteger(Math.toIntExact(((LocalDate) value).toEpochDay()));
        } else if (value instanceof ReadableInstant) {
          consumer.addLong(((ReadableInstant) value).getMillis());
        } else {
          throw new IllegalArgumentException(
              "column " + name + ": cannot write a " + value.getClass().getName());
        }
        consumer.endField(name, i);
      }
      consumer.endMessage();
    }
  }
}
