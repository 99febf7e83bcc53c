package dev.featurebeam.spec;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.List;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;

/** A parsed, validated feature spec. Immutable; build it with {@link SpecParser}. */
@AutoValue
public abstract class FeatureSpec implements Serializable {
  /** The name of the as-of date column of every output row. */
  public static final String AS_OF_DATE = "as_of_date";

  public abstract String featureSet();

  public abstract int version();

  public abstract String entity();

  public abstract String timestamp();

  public abstract @Nullable String dedupKey();

  /**
   * How far back a copy of an event can make a later copy a duplicate, in milliseconds
   * ({@code dedup_within}); null when unbounded: then exactly one copy of each key is kept.
   */
  public abstract @Nullable Long dedupWithinMillis();

  public abstract AsOf asOf();

  /** Zone for timestamps written without an offset; UTC unless the spec says otherwise. */
  public abstract String sourceTimezone();

  public abstract List<FieldSpec> fields();

  public abstract List<FeatureDef> features();

  public abstract List<QualityCheck> quality();

  /** sha256 (hex) of the spec file's bytes, recorded in manifests for lineage. */
  public abstract String sha256();

  public static FeatureSpec of(
      String featureSet,
      int version,
      String entity,
      String timestamp,
      @Nullable String dedupKey,
      @Nullable Long dedupWithinMillis,
      AsOf asOf,
      String sourceTimezone,
      List<FieldSpec> fields,
      List<FeatureDef> features,
      List<QualityCheck> quality,
      String sha256) {
    return new AutoValue_FeatureSpec(
        featureSet, version, entity, timestamp, dedupKey, dedupWithinMillis, asOf, sourceTimezone,
        List.copyOf(fields), List.copyOf(features), List.copyOf(quality), sha256);
  }

  public @Nullable FieldSpec field(String name) {
    for (FieldSpec f : fields()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  public int fieldIndex(String name) {
    for (int i = 0; i < fields().size(); i++) {
      if (fields().get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The longest window of any windowed feature, or {@code Long.MAX_VALUE} when no feature is
   * windowed. A row for (entity, D) exists when the entity has an event in [T - this, T).
   */
  public long presenceWindowMillis() {
    long longest = -1;
    for (FeatureDef f : features()) {
      if (f.windowMillis() != null) {
        longest = Math.max(longest, f.windowMillis());
      }
    }
    return longest < 0 ? Long.MAX_VALUE : longest;
  }

  /** Whether some feature reads the entity's whole history. */
  public boolean hasUnboundedFeature() {
    for (FeatureDef f : features()) {
      if (f.windowMillis() == null) {
        return true;
      }
    }
    return false;
  }

  /**
   * How far before the earliest as-of instant events still matter: the longest window, or
   * {@code Long.MAX_VALUE} when some feature reads the whole history.
   */
  public long lookbackMillis() {
    if (hasUnboundedFeature()) {
      return Long.MAX_VALUE;
    }
    return presenceWindowMillis();
  }

  /** The Beam schema of a canonical (validated, cleaned) event row: the source fields in order. */
  public Schema eventSchema() {
    Schema.Builder b = Schema.builder();
    for (FieldSpec f : fields()) {
      b.addField(Schema.Field.nullable(f.name(), f.type().beamType()));
    }
    return b.build();
  }

  /** The Beam schema of an output feature row, in the store's column order: entity, as_of_date, the features. */
  public Schema outputSchema() {
    Schema.Builder b = Schema.builder();
    b.addField(Schema.Field.of(entity(), Schema.FieldType.STRING));
    b.addField(Schema.Field.of(AS_OF_DATE, Schema.FieldType.logicalType(SqlTypes.DATE)));
    for (FeatureDef f : features()) {
      b.addField(Schema.Field.nullable(f.name(), outputType(f)));
    }
    return b.build();
  }

  /** The output type of a feature in the offline store. */
  public Schema.FieldType outputType(FeatureDef f) {
    switch (f.agg()) {
      case COUNT:
      case COUNT_DISTINCT:
        return Schema.FieldType.INT64;
      case DAYS_SINCE_LAST:
        return Schema.FieldType.INT32;
      case EXISTS:
        return Schema.FieldType.BOOLEAN;
      case AVG:
        return Schema.FieldType.DOUBLE;
      default:
        return field(f.field()).type().beamType();
    }
  }

  /** The names of the output columns, in order. */
  public List<String> outputColumns() {
    return outputSchema().getFieldNames();
  }
}
