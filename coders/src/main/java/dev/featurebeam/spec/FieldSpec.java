package dev.featurebeam.spec;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import javax.annotation.Nullable;

/** One field of the source schema. */
@AutoValue
public abstract class FieldSpec implements Serializable {
  public abstract String name();

  public abstract FieldType type();

  public abstract boolean required();

  /** Inclusive lower bound for numeric fields. */
  public abstract @Nullable Double min();

  /** Inclusive upper bound for numeric fields. */
  public abstract @Nullable Double max();

  public static FieldSpec of(
      String name, FieldType type, boolean required, @Nullable Double min, @Nullable Double max) {
    return new AutoValue_FieldSpec(name, type, required, min, max);
  }
}
