package dev.featurebeam.spec;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import javax.annotation.Nullable;

/** One declared feature: an aggregation of matching events over a window before the as-of time. */
@AutoValue
public abstract class FeatureDef implements Serializable {
  public abstract String name();

  public abstract Aggregation agg();

  /** The source field the aggregation reads; null for count, exists and days_since_last. */
  public abstract @Nullable String field();

  /** Window length in milliseconds; null means the entity's whole history. */
  public abstract @Nullable Long windowMillis();

  /** The window as written in the spec ("7d"), or null. */
  public abstract @Nullable String windowText();

  /**
   * Field equalities joined by AND; each field maps to the typed values it may take (one of). Typed
   * values are String, Long, Double, Boolean, or Long epoch millis for timestamps.
   */
  public abstract Map<String, List<Object>> where();

  public boolean isWindowed() {
    return windowMillis() != null;
  }

  public static FeatureDef of(
      String name,
      Aggregation agg,
      @Nullable String field,
      @Nullable Long windowMillis,
      @Nullable String windowText,
      Map<String, List<Object>> where) {
    return new AutoValue_FeatureDef(name, agg, field, windowMillis, windowText, where);
  }
}
