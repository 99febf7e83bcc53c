package dev.featurebeam.benchmarks;

import java.util.List;

/**
 * What benchmarks/bench_spec.yaml declares, written down for the hand-made comparators: the
 * source fields, the output columns and the windows. Keep it in step with the YAML.
 */
final class BenchSpec {
  private BenchSpec() {}

  static final long DAY_MS = 86_400_000L;

  /** The source schema's fields in spec order (the order of the canonical serialization). */
  static final List<String> FIELDS =
      List.of("event_id", "user_id", "event_type", "amount", "status", "category", "ts");

  /** Output columns, in the store's order: entity, as_of_date, then the features in spec order. */
  static final List<String> COLUMNS =
      List.of("user_id", "as_of_date", "purchases_7d", "amount_30d", "events_24h", "active_24h",
          "events_total", "days_since_last");

  /** The spec's entity. */
  static final String ENTITY = "user_id";

  /** The features in spec order (the columns after the spine's in a training set). */
  static final List<String> FEATURES = COLUMNS.subList(2, COLUMNS.size());

  /** The longest window (presence window, amount_30d), in days. */
  static final int WINDOW_30D = 30;
  /** purchases_7d. */
  static final int WINDOW_7D = 7;
  // events_24h and active_24h: [T - 24h, T) with T at midnight is the as-of day itself.

  /** purchases_7d and amount_30d count events with these values (where: {...}). */
  static final String PURCHASE = "purchase";
  static final String SUCCESS = "success";

  /**
   * Event times FeatureBeam accepts (it quarantines others as BAD_TIMESTAMP), both inclusive: the
   * years 1900 to 2262, 1900-01-01T00:00:00Z to 2262-12-31T23:59:59.999Z.
   */
  static final long MIN_EVENT_MILLIS = -2_208_988_800_000L;
  static final long MAX_EVENT_MILLIS = 9_246_182_400_000L - 1;

  /** The CSV header both comparators write. */
  static String header() {
    return String.join(",", COLUMNS);
  }
}
