package dev.featurebeam.pipelines.generate;

/**
 * The ways the generator breaks a record on purpose, so that every quarantine path of a source is
 * exercised. Each names the reason code validation gives it.
 */
public enum Malformation {
  /** user_id empty (CSV), absent (JSON lines) or null (Parquet). */
  MISSING_USER_ID("MISSING:user_id"),
  /** amount "abc" (CSV, JSON string); Parquet cannot hold text in a double column: +Infinity. */
  AMOUNT_NOT_A_NUMBER("BAD_TYPE:amount"),
  /** amount below the schema's min of 0, e.g. -12.50. */
  NEGATIVE_AMOUNT("OUT_OF_RANGE:amount"),
  /** ts "2025-13-45T99:00". */
  BAD_TIMESTAMP("BAD_TIMESTAMP:ts"),
  /** amount "NaN" (CSV, JSON string), NaN in Parquet. */
  NAN_AMOUNT("BAD_TYPE:amount"),
  /**
   * The ts column is missing: a CSV line one column short, a JSON object without "ts", a null ts
   * in Parquet. A CSV source may report the short line with its own reason instead of MISSING:ts.
   */
  MISSING_COLUMN("MISSING:ts");

  private final String expectedReason;

  Malformation(String expectedReason) {
    this.expectedReason = expectedReason;
  }

  /** The quarantine reason code validation should give. */
  public String expectedReason() {
    return expectedReason;
  }
}
