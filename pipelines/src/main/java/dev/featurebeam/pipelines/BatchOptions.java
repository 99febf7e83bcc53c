package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Options of {@code featurebeam batch}; every Beam runner option passes through beside them. */
public interface BatchOptions extends PipelineOptions {
  @Description("Path of the feature spec (YAML), see SPEC.md.")
  String getSpec();

  void setSpec(String value);

  @Description("Where events come from: file:PATH or file:GLOB (.csv with a header, .jsonl/.json, .parquet).")
  String getSource();

  void setSource(String value);

  @Description("Root folder of the offline store; partitions go to OUT/<feature_set>/v<version>/as_of_date=D/.")
  String getOut();

  void setOut(String value);

  @Description("The one as-of date to compute, YYYY-MM-DD. Use either this or --from/--to.")
  String getAsOfDate();

  void setAsOfDate(String value);

  @Description("First as-of date of a backfill, YYYY-MM-DD (inclusive).")
  String getFrom();

  void setFrom(String value);

  @Description("Last as-of date of a backfill, YYYY-MM-DD (inclusive).")
  String getTo();

  void setTo(String value);

  @Description("A file of runner options, one --name=value per line (# starts a comment); options given on the command line win.")
  String getRunnerConfig();

  void setRunnerConfig(String value);

  @Description("Parquet files per as-of partition; an entity's file is chosen by a stable hash of its key.")
  @Default.Integer(1)
  int getShardsPerPartition();

  void setShardsPerPartition(int value);

  @Description("Read each uncompressed CSV or JSON-lines file in parts of about this many MB"
      + " (default 32), cut where records start and spread over the workers, so that one large"
      + " file does not leave all but one worker idle; 0 reads each file with one worker.")
  @Default.Integer(32)
  int getFilePartMegabytes();

  void setFilePartMegabytes(int value);

  @Description("Stop at once (exit 2) when another run is writing the same feature set and"
      + " version of the store, instead of waiting for it to finish.")
  @Default.Boolean(false)
  boolean getNoWait();

  void setNoWait(boolean value);

  @Description("Print a progress line while the pipeline runs (records read, stage).")
  @Default.Boolean(true)
  boolean getProgress();

  void setProgress(boolean value);
}
