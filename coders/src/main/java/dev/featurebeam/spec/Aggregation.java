package dev.featurebeam.spec;

import java.util.Locale;

/** The aggregations a feature may declare, with the rules of each. */
public enum Aggregation {
  COUNT(false, false, true),
  SUM(true, false, true),
  AVG(true, false, false),
  MIN(true, false, true),
  MAX(true, false, true),
  COUNT_DISTINCT(true, false, false),
  LAST(true, false, true),
  EXISTS(false, false, false),
  /** Always over the whole history: a window would change its meaning, so the spec refuses one. */
  DAYS_SINCE_LAST(false, true, true);

  private final boolean needsField;
  private final boolean refusesWindow;
  private final boolean allowsUnbounded;

  Aggregation(boolean needsField, boolean refusesWindow, boolean allowsUnbounded) {
    this.needsField = needsField;
    this.refusesWindow = refusesWindow;
    this.allowsUnbounded = allowsUnbounded;
  }

  /** Whether the aggregation reads a field (and so requires {@code field:}). */
  public boolean needsField() {
    return needsField;
  }

  /** Whether a {@code window:} on this aggregation is a spec error. */
  public boolean refusesWindow() {
    return refusesWindow;
  }

  /** Whether the window may be omitted (meaning the entity's whole history). */
  public boolean allowsUnbounded() {
    return allowsUnbounded;
  }

  public String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Aggregation fromYaml(String name) {
    for (Aggregation a : values()) {
      if (a.yamlName().equals(name)) {
        return a;
      }
    }
    return null;
  }
}
