package dev.featurebeam.io.sink;

import dev.featurebeam.spec.FeatureSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/**
 * The Avro schema of the offline store's Parquet files.
 * The schema is derived from {@link FeatureSpec#outputSchema()} alone, so it is the same on every
 * worker and every rerun.
 *
 * <ul>
 *   <li>entity: {@code string}; {@code as_of_date}: {@code int} with logical type {@code date}
 *   <li>INT64 {@code long}, INT32 {@code int}, BOOLEAN {@code boolean}, DOUBLE {@code double},
 *       STRING {@code string}, DATETIME {@code long} with logical type {@code timestamp-millis}
 *   <li>every feature nullable, as {@code ["null", type]} with default null
 * </ul>
 */
public final class OfflineSchema {
  private OfflineSchema() {}

  /** The Avro record schema for a spec's output rows, named after the feature set. */
  public static Schema avroSchema(FeatureSpec spec) {
    org.apache.beam.sdk.schemas.Schema beam = spec.outputSchema();
    List<Schema.Field> fields = new ArrayList<>();
    fields.add(new Schema.Field(spec.entity(), Schema.create(Schema.Type.STRING)));
    fields.add(
        new Schema.Field(
            FeatureSpec.AS_OF_DATE,
            LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT))));
    for (org.apache.beam.sdk.schemas.Schema.Field f :
        beam.getFields().subList(2, beam.getFieldCount())) {
      Schema type = avroType(f.getType().getTypeName(), f.getName());
      fields.add(
          new Schema.Field(
              f.getName(),
              Schema.createUnion(Schema.create(Schema.Type.NULL), type),
              null,
              JsonProperties.NULL_VALUE));
    }
    return Schema.createRecord(recordName(spec.featureSet()), null, null, false, fields);
  }

  private static Schema avroType(org.apache.beam.sdk.schemas.Schema.TypeName type, String column) {
    switch (type) {
      case INT64:
        return Schema.create(Schema.Type.LONG);
      case INT32:
        return Schema.create(Schema.Type.INT);
      case BOOLEAN:
        return Schema.create(Schema.Type.BOOLEAN);
      case DOUBLE:
        return Schema.create(Schema.Type.DOUBLE);
      case STRING:
        return Schema.create(Schema.Type.STRING);
      case DATETIME:
        return LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
      default:
        throw new IllegalArgumentException(
            "column " + column + " has type " + type + ", which the offline store cannot write");
    }
  }

  /** Avro names start with a letter or '_'; feature set names may start with a digit. */
  private static String recordName(String featureSet) {
    return Character.isDigit(featureSet.charAt(0)) ? "_" + featureSet : featureSet;
  }

  /**
   * The type of a column as the manifest states it: the Avro logical type where there is one
   * ({@code date}, {@code timestamp-millis}), else the Avro type ({@code string}, {@code long}...).
   */
  public static String typeName(Schema fieldSchema) {
    Schema s = nonNull(fieldSchema);
    LogicalType logical = s.getLogicalType();
    return logical != null ? logical.getName() : s.getType().getName();
  }

  /** The non-null branch of a {@code ["null", T]} union, or the schema itself. */
  static Schema nonNull(Schema schema) {
    if (schema.getType() != Schema.Type.UNION) {
      return schema;
    }
    for (Schema branch : schema.getTypes()) {
      if (branch.getType() != Schema.Type.NULL) {
        return branch;
      }
    }
    return schema;
  }
}
