package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code featurebeam serve}: the HTTP feature server. */
public interface ServeOptions extends SpecOptions, OnlineStoreOptions {
  @Description("The port to listen on (0 picks a free one; the line 'serving ... on' names it).")
  @Validation.Required
  int getPort();

  void setPort(int value);

  @Description("The address to listen on; 0.0.0.0 for every interface.")
  @Default.String("127.0.0.1")
  String getHost();

  void setHost(String value);

  @Description("Requests handled at once, each with its own Redis connection.")
  @Default.Integer(16)
  int getThreads();

  void setThreads(int value);

  @Description("Requests that may wait for a thread; beyond them a request is answered 503 at"
      + " once instead of waiting.")
  @Default.Integer(256)
  int getQueue();

  void setQueue(int value);
}
