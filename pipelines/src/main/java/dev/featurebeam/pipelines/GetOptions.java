package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code featurebeam get}: one entity's features at one instant. */
public interface GetOptions extends SpecOptions, OnlineStoreOptions {
  @Description("The entity whose features to print (the value of the spec's entity column).")
  @Validation.Required
  String getEntity();

  void setEntity(String value);

  @Description("The instant the features describe: ISO-8601 (2025-03-07T14:02:11.345Z, an offset,"
      + " or no zone for UTC), a date for its midnight UTC, or epoch milliseconds. Default: now."
      + " It cannot be before the latest event the stored state holds (use training-set).")
  String getAt();

  void setAt(String value);
}
