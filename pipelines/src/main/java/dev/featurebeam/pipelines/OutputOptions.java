package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/** The offline store a command writes into. */
public interface OutputOptions extends PipelineOptions {
  @Description("Root folder of the offline store; partitions go to"
      + " OUT/<feature_set>/v<version>/as_of_date=D/, the run's report and quarantine to"
      + " OUT/<feature_set>/v<version>/_runs/.")
  @Validation.Required
  String getOut();

  void setOut(String value);
}
