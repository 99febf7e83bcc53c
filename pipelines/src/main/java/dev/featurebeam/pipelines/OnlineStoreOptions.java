package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/** The online store that {@code get} and {@code serve} read. */
public interface OnlineStoreOptions extends PipelineOptions {
  @Description("The online store: redis://[USER:PASSWORD@]HOST:PORT[/DB] (or the password in"
      + " REDIS_PASSWORD), as batch or stream wrote it with --onlineStore.")
  @Validation.Required
  String getOnlineStore();

  void setOnlineStore(String value);
}
