package dev.featurebeam.spec;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import javax.annotation.Nullable;

/** One field of the source schema. */
@AutoValue
public abstract class FieldSpec implements Serializable {
  /** How the clean step cases a string field. */
  public enum Case {
    LOWER,
    UPPER
  }

  public abstract String name();

  public abstract FieldType type();

  public abstract boolean required();

  /** Inclusive lower bound for numeric fields. */
  public abstract @Nullable Double min();

  /** Inclusive upper bound for numeric fields. */
  public abstract @Nullable Double max();

  /** {@code case: lower|upper} for string fields; applied by the clean step. */
  public abstract @Nullable Case caseMode();

  /**
   * {@code default:} for optional fields, typed like a parsed value (String, Long, Double, Boolean,
   * or Long epoch millis); the clean step puts it where the value is missing or empty.
   */
  public abstract @Nullable Object defaultValue();

  public static FieldSpec of(
      String name, FieldType type, boolean required, @Nullable Double min, @Nullable Double max) {
    return of(name, type, required, min, max, null, null);
  }

  public static FieldSpec of(
      String name,
      FieldType type,
      boolean required,
      @Nullable Double min,
      @Nullable Double max,
      @Nullable Case caseMode,
      @Nullable Object defaultValue) {
    return new AutoValue_FieldSpec(name, type, required, min, max, caseMode, defaultValue);
  }
}
