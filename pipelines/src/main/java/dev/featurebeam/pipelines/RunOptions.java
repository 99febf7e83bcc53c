package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How a command that runs a pipeline runs it and what it prints while it does. */
public interface RunOptions extends PipelineOptions {
  @Description("A file of runner options, one --name=value per line (# starts a comment), e.g."
      + " runners-config/direct.args; options given on the command line win.")
  String getRunnerConfig();

  void setRunnerConfig(String value);

  @Description("Print a progress line on standard error while the pipeline runs (records read,"
      + " valid, tiles, feature rows, files staged, partitions published).")
  @Default.Boolean(true)
  boolean getProgress();

  void setProgress(boolean value);

  @Description("Stop at once (exit 2) when another run is writing the same feature set and"
      + " version of the store, instead of waiting for it to finish.")
  @Default.Boolean(false)
  boolean getNoWait();

  void setNoWait(boolean value);

  @Description("Print the runner's log and a failure's stack trace on standard error, instead of"
      + " keeping them for the log file that the failure's line names.")
  @Default.Boolean(false)
  boolean getVerbose();

  void setVerbose(boolean value);
}
