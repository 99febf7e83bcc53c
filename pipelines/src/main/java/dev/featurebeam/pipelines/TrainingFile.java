package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.LocalOutputFile;
import dev.featurebeam.io.sink.OfflineSchema;
import dev.featurebeam.io.sink.ParquetFooters;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.time.Instant;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.JsonProperties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Writes a training set's rows into one Parquet file, sorted by instant, then entity, then the
 * spine's columns (nulls first), so that the bytes depend only on the rows, not on the runner, the
 * parallelism or the spine's order. The file has the spine's columns (as nullable strings, but a
 * Parquet spine's plain-typed columns with their own types, {@link #typedColumns}), then the
 * features with the offline store's Avro types. The rows of one run are sorted in one worker's
 * memory. Written even when there are no rows.
 */
final class TrainingFile {
  static final String NAMESPACE = "featurebeam.training";
  static final String ROWS_WRITTEN = "rows_written";
  static final String INVALID_VALUES = "invalid_values";

  private TrainingFile() {}

  static PTransform<PCollection<Row>, PCollection<Long>> write(String path,
      org.apache.beam.sdk.schemas.Schema rowSchema, List<String> spineColumns,
      Map<String, String> typedColumns, FeatureSpec spec, int instantIndex, int entityIndex) {
    return new PTransform<>() {
      @Override
      public PCollection<Long> expand(PCollection<Row> rows) {
        // One group read in one pass (a runner may not re-iterate a large group): the rows (0)
        // and a marker (1) that makes the group exist when there are no rows.
        KvCoder<Integer, RawUnionValue> coder = KvCoder.of(VarIntCoder.of(),
            UnionCoder.of(List.of(RowCoder.of(rowSchema), VarLongCoder.of())));
        PCollection<KV<Integer, RawUnionValue>> keyed = rows
            .apply("OneKey", ParDo.of(new DoFn<Row, KV<Integer, RawUnionValue>>() {
              @ProcessElement
              public void process(@Element Row row,
                  OutputReceiver<KV<Integer, RawUnionValue>> out) {
                out.output(KV.of(0, new RawUnionValue(0, row)));
              }
            }))
            .setCoder(coder);
        PCollection<KV<Integer, RawUnionValue>> marker = rows.getPipeline()
            .apply("Marker", Create.of(KV.of(0, new RawUnionValue(1, 0L))).withCoder(coder));
        return PCollectionList.of(keyed).and(marker)
            .apply("RowsAndMarker", Flatten.pCollections())
            .apply("AllRows", GroupByKey.create())
            .apply("SortAndWrite", ParDo.of(
                new WriteFn(path, spec, spineColumns, typedColumns, instantIndex, entityIndex)))
            .setCoder(VarLongCoder.of());
      }
    };
  }

  /**
   * The spine columns of a Parquet spine ({@code spine}, its Avro schema) that keep their type in
   * the training set, by name, with the field's Avro schema as JSON: booleans, ints, longs,
   * floats and doubles, dates and millisecond timestamps, required or nullable. The reader
   * renders these as text that reads back to the same value; every other column (strings,
   * decimals, bytes, micro- and INT96 timestamps, nested values) is written as text.
   */
  static Map<String, String> typedColumns(Schema spine) {
    Map<String, String> typed = new LinkedHashMap<>();
    for (Schema.Field f : spine.getFields()) {
      if (plainType(f.schema()) != null) {
        typed.put(f.name(), f.schema().toString());
      }
    }
    return typed;
  }

  /** The one non-null type of a field whose text reads back exactly, or null. */
  private static Schema plainType(Schema field) {
    Schema type = field;
    if (field.getType() == Schema.Type.UNION) {
      List<Schema> branches = field.getTypes();
      if (branches.size() != 2 || branches.stream().noneMatch(b -> b.getType() == Schema.Type.NULL)) {
        return null;
      }
      type = branches.get(0).getType() == Schema.Type.NULL ? branches.get(1) : branches.get(0);
    }
    String logical = type.getLogicalType() == null ? "" : type.getLogicalType().getName();
    switch (type.getType()) {
      case BOOLEAN:
      case FLOAT:
      case DOUBLE:
        return logical.isEmpty() ? type : null;
      case INT:
        return logical.isEmpty() || logical.equals("date") ? type : null;
      case LONG:
        return logical.isEmpty() || logical.equals("timestamp-millis") ? type : null;
      default:
        return null;
    }
  }

  /**
   * A typed column's text (as the Parquet reader rendered it) as the Avro value it was; {@code
   * type} is the column's {@link #plainType}.
   */
  static Object typedValue(String text, Schema type) {
    if (text == null) {
      return null;
    }
    String logical = type.getLogicalType() == null ? "" : type.getLogicalType().getName();
    switch (type.getType()) {
      case BOOLEAN:
        return Boolean.parseBoolean(text);
      case FLOAT:
        return Float.parseFloat(text);
      case DOUBLE:
        return Double.parseDouble(text);
      case INT:
        return logical.equals("date") ? (int) LocalDate.parse(text).toEpochDay() : Integer.parseInt(text);
      default:
        return logical.equals("timestamp-millis") ? Instant.parse(text).toEpochMilli() : Long.parseLong(text);
    }
  }

  /**
   * The file's Avro schema: the spine's columns (the typed ones with their own schema, the rest as
   * nullable strings), then the features.
   */
  static Schema avroSchema(FeatureSpec spec, List<String> spineColumns,
      Map<String, String> typedColumns) {
    Schema store = OfflineSchema.avroSchema(spec);
    List<Schema.Field> fields = new ArrayList<>();
    Schema text = Schema.createUnion(Schema.create(Schema.Type.NULL),
        Schema.create(Schema.Type.STRING));
    for (String c : spineColumns) {
      String typed = typedColumns.get(c);
      if (typed == null) {
        fields.add(new Schema.Field(c, text, null, JsonProperties.NULL_VALUE));
      } else {
        Schema type = new Schema.Parser().parse(typed);
        fields.add(type.getType() == Schema.Type.UNION
            ? new Schema.Field(c, type, null, JsonProperties.NULL_VALUE)
            : new Schema.Field(c, type));
      }
    }
    for (FeatureDef f : spec.features()) {
      Schema.Field feature = store.getField(f.name());
      fields.add(new Schema.Field(f.name(), feature.schema(), null, JsonProperties.NULL_VALUE));
    }
    return Schema.createRecord(store.getName() + "_training_set", null, null, false, fields);
  }

  static final class WriteFn extends DoFn<KV<Integer, Iterable<RawUnionValue>>, Long> {
    private final String path;
    private final FeatureSpec spec;
    private final ArrayList<String> columns;
    private final LinkedHashMap<String, String> typedColumns;
    private final int spineColumns;
    private final int instantIndex;
    private final int entityIndex;
    private final Counter written = Metrics.counter(NAMESPACE, ROWS_WRITTEN);

    WriteFn(String path, FeatureSpec spec, List<String> columns, Map<String, String> typedColumns,
        int instantIndex, int entityIndex) {
      this.path = path;
      this.spec = spec;
      this.columns = new ArrayList<>(columns);
      this.typedColumns = new LinkedHashMap<>(typedColumns);
      this.spineColumns = columns.size();
      this.instantIndex = instantIndex;
      this.entityIndex = entityIndex;
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<RawUnionValue>> all,
        OutputReceiver<Long> out) {
      // Sorted by keys read out of each row once: a comparator calling Row's getters took
      // 40% of this single-threaded step.
      List<Keyed> keyed = new ArrayList<>();
      for (RawUnionValue v : all.getValue()) {
        if (v.getUnionTag() == 0) {
          Row r = (Row) v.getValue();
          keyed.add(new Keyed(r.getInt64(instantIndex), r.getString(entityIndex), r));
        }
      }
      keyed.sort(order());
      write(keyed, avroSchema(spec, columns, typedColumns));
      written.inc(keyed.size());
      out.output((long) keyed.size());
    }

    private void write(List<Keyed> rows, Schema avro) {
      int features = spec.features().size();
      // The typed spine columns' plain types, resolved once for all rows.
      Schema[] typed = new Schema[spineColumns];
      for (int c = 0; c < spineColumns; c++) {
        String json = typedColumns.get(columns.get(c));
        typed[c] = json == null ? null : plainType(new Schema.Parser().parse(json));
      }
      try {
        try (ParquetWriter<GenericRecord> writer =
            AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(Path.of(path)))
                .withSchema(avro)
                .withDataModel(GenericData.get())
                .withConf(new Configuration(false))
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .build()) {
          for (Keyed k : rows) {
            Row r = k.row;
            GenericData.Record record = new GenericData.Record(avro);
            for (int c = 0; c < spineColumns; c++) {
              String text = r.getString(c);
              record.put(c, typed[c] == null ? text : typedValue(text, typed[c]));
            }
            int first = r.getFieldCount() - features;
            for (int i = 0; i < features; i++) {
              Object v = r.getValue(first + i);
              if (v instanceof org.joda.time.ReadableInstant) {
                v = ((org.joda.time.ReadableInstant) v).getMillis();
              }
              record.put(spineColumns + i, v);
            }
            writer.write(record);
          }
        }
        // The writer lists a column's encodings in a hash set's order, which differs between
        // JVMs: the same rows would give other footer bytes in another run.
        ParquetFooters.normalize(Path.of(path));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + path, e);
      }
    }

    private Comparator<Keyed> order() {
      Comparator<Keyed> bySpine = (a, b) -> {
        for (int c = 0; c < spineColumns; c++) {
          String x = a.row.getString(c);
          String y = b.row.getString(c);
          if (x == null || y == null) {
            if (x != y) {
              return x == null ? -1 : 1;
            }
            continue;
          }
          int d = x.compareTo(y);
          if (d != 0) {
            return d;
          }
        }
        return 0;
      };
      return Comparator.<Keyed>comparingLong(k -> k.instant)
          .thenComparing(k -> k.entity).thenComparing(bySpine);
    }
  }

  /** A row with its first two sort keys. */
  private static final class Keyed {
    final long instant;
    final String entity;
    final Row row;

    Keyed(long instant, String entity, Row row) {
      this.instant = instant;
      this.entity = entity;
      this.row = row;
    }
  }

  /** Counts the values no column can hold; the run then writes no training set. */
  static final class CountInvalidFn extends DoFn<InvalidValue, Void> {
    private final Counter invalid = Metrics.counter(NAMESPACE, INVALID_VALUES);

    @ProcessElement
    public void process(@Element InvalidValue value) {
      invalid.inc();
    }
  }
}
