package dev.featurebeam.spec;

import java.util.Locale;
import org.apache.beam.sdk.schemas.Schema;

/** The declared type of a source field, as written in the spec's {@code source_schema}. */
public enum FieldType {
  STRING(Schema.FieldType.STRING),
  LONG(Schema.FieldType.INT64),
  DOUBLE(Schema.FieldType.DOUBLE),
  BOOLEAN(Schema.FieldType.BOOLEAN),
  /** Held as epoch milliseconds (UTC) in canonical rows. */
  TIMESTAMP(Schema.FieldType.DATETIME);

  private final Schema.FieldType beamType;

  FieldType(Schema.FieldType beamType) {
    this.beamType = beamType;
  }

  public Schema.FieldType beamType() {
    return beamType;
  }

  public boolean isNumeric() {
    return this == LONG || this == DOUBLE;
  }

  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Returns the type for a spec name, or null when the name is not a type. */
  public static FieldType fromYaml(String name) {
    for (FieldType t : values()) {
      if (t.yamlName().equals(name)) {
        return t;
      }
    }
    return null;
  }
}
