package dev.featurebeam.spec;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.Locale;
import javax.annotation.Nullable;

/** One field of the source schema. */
@AutoValue
public abstract class FieldSpec implements Serializable {
  /** How the clean step cases a string field. */
  public enum Case {
    LOWER,
    UPPER
  }

  /** How a timestamp field reads a bare number ({@code format:} in the spec). */
  public enum TimestampFormat {
    EPOCH_MILLIS,
    /** Whole seconds, or seconds with a decimal fraction (floored to the millisecond). */
    EPOCH_SECONDS;

    public String yamlName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The format for a spec name, or null when the name is not one. */
    public static @Nullable TimestampFormat fromYaml(String name) {
      for (TimestampFormat f : values()) {
        if (f.yamlName().equals(name)) {
          return f;
        }
      }
      return null;
    }
  }

  public abstract String name();

  public abstract FieldType type();

  public abstract boolean required();

  /** Inclusive lower bound for numeric fields; epoch millis for timestamp fields. */
  public abstract @Nullable Double min();

  /** Inclusive upper bound for numeric fields; epoch millis for timestamp fields. */
  public abstract @Nullable Double max();

  /** {@code case: lower|upper} for string fields; applied by the clean step. */
  public abstract @Nullable Case caseMode();

  /**
   * {@code default:} for optional fields, typed like a parsed value (String, Long, Double, Boolean,
   * or Long epoch millis); the clean step puts it where the value is missing or empty.
   */
  public abstract @Nullable Object defaultValue();

  /** How bare numbers read; {@link TimestampFormat#EPOCH_MILLIS} unless a timestamp field says. */
  public abstract TimestampFormat timestampFormat();

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
    return of(name, type, required, min, max, caseMode, defaultValue, TimestampFormat.EPOCH_MILLIS);
  }

  public static FieldSpec of(
      String name,
      FieldType type,
      boolean required,
      @Nullable Double min,
      @Nullable Double max,
      @Nullable Case caseMode,
      @Nullable Object defaultValue,
      TimestampFormat timestampFormat) {
    return new AutoValue_FieldSpec(
        name, type, required, min, max, caseMode, defaultValue, timestampFormat);
  }
}
