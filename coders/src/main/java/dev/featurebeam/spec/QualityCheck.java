package dev.featurebeam.spec;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import javax.annotation.Nullable;

/** One declared quality check, run per as-of partition before it is published. */
@AutoValue
public abstract class QualityCheck implements Serializable {
  public enum Kind {
    /** {@code column} lies in [lo, hi] where it is not null. */
    BETWEEN,
    /** {@code column} is never null. */
    NOT_NULL,
    /** {@code left op right}, each a column or a number, holds on every row where both are set. */
    COMPARE,
    /** |rows - previous rows| / previous rows is at most {@code limit}. */
    MAX_ROW_COUNT_CHANGE
  }

  public abstract Kind kind();

  public abstract @Nullable String column();

  public abstract @Nullable Double lo();

  public abstract @Nullable Double hi();

  public abstract @Nullable String left();

  public abstract @Nullable String op();

  public abstract @Nullable String right();

  public abstract @Nullable Double limit();

  /** How the check reads in the spec, for messages and reports. */
  public abstract String description();

  public static QualityCheck between(String column, double lo, double hi) {
    return new AutoValue_QualityCheck(
        Kind.BETWEEN, column, lo, hi, null, null, null, null,
        column + " between [" + trim(lo) + ", " + trim(hi) + "]");
  }

  public static QualityCheck notNull(String column) {
    return new AutoValue_QualityCheck(
        Kind.NOT_NULL, column, null, null, null, null, null, null, column + " not_null");
  }

  public static QualityCheck compare(String left, String op, String right) {
    return new AutoValue_QualityCheck(
        Kind.COMPARE, null, null, null, left, op, right, null, left + " " + op + " " + right);
  }

  public static QualityCheck maxRowCountChange(double limit) {
    return new AutoValue_QualityCheck(
        Kind.MAX_ROW_COUNT_CHANGE, null, null, null, null, null, null, limit,
        "max_row_count_change " + trim(limit));
  }

  private static String trim(double d) {
    return d == Math.rint(d) && !Double.isInfinite(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
