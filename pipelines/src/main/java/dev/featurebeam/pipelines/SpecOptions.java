package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/** The feature spec a command works from: batch now, stream and training-set later. */
public interface SpecOptions extends PipelineOptions {
  @Description("Path of the feature spec (YAML): the source schema, the features and their checks.")
  @Validation.Required
  String getSpec();

  void setSpec(String value);
}
