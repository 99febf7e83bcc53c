package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code featurebeam training-set}; every Beam runner option passes through beside them. */
public interface TrainingSetOptions extends SpecOptions, RunOptions {
  /** How a spine row's values are found. */
  enum Mode {
    /** The features computed at the row's instant, exact to the millisecond. */
    exact,
    /** The row of the latest published partition whose as-of instant is at or before it. */
    snapshot
  }

  @Description("Where events come from: file:PATH or file:GLOB (.csv with a header,"
      + " .jsonl/.json, .parquet). Read in exact mode only.")
  String getSource();

  void setSource(String value);

  @Description("The spine: one .csv (with a header), .jsonl/.json or .parquet file with the spec's"
      + " entity column, a timestamp column and any other columns, which pass through as text.")
  @Validation.Required
  String getSpine();

  void setSpine(String value);

  @Description("The spine's timestamp column: ISO-8601 with an offset or Z, without one (read in"
      + " the spec's source zone), a date, or epoch milliseconds.")
  @Default.String("timestamp")
  String getSpineTimestamp();

  void setSpineTimestamp(String value);

  @Description("The training set's Parquet file. Its report goes to FILE.report.json and the"
      + " quarantined spine rows and events to FILE.quarantine.jsonl.")
  @Validation.Required
  String getOut();

  void setOut(String value);

  @Description("exact: the features at each spine row's instant; snapshot: the row of the latest"
      + " published daily partition of --store whose as-of instant is at or before it.")
  @Default.Enum("exact")
  Mode getMode();

  void setMode(Mode value);

  @Description("Snapshot mode: the offline store that batch runs publish to (their --out).")
  String getStore();

  void setStore(String value);

  @Description("Snapshot mode: a partition whose as-of instant is more than this before the spine"
      + " row's instant is not used (e.g. 36h, 2d); the row's features are then null. Default:"
      + " no limit.")
  String getMaxStaleness();

  void setMaxStaleness(String value);
}
