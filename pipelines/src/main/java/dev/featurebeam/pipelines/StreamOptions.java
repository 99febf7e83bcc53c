package dev.featurebeam.pipelines;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;

/** Options of {@code featurebeam stream}; every Beam runner option passes through beside them. */
public interface StreamOptions extends SpecOptions, OutputOptions, RunOptions {
  @Description("The Kafka topic to read: kafka://HOST:PORT/TOPIC (HOST:PORT,HOST:PORT for more"
      + " brokers). One JSON object per message value.")
  @Validation.Required
  String getSource();

  void setSource(String value);

  @Description("First as-of date to publish, YYYY-MM-DD.")
  @Validation.Required
  String getFrom();

  void setFrom(String value);

  @Description("Last as-of date to publish, YYYY-MM-DD; the stream stops by itself once it is"
      + " published. Without it the stream runs until it is stopped.")
  String getTo();

  void setTo(String value);

  @Description("How far an event's time may lag the latest one of its Kafka partition and still"
      + " be on time: the watermark trails the event times by this much (e.g. 5s, 500ms, 2m).")
  @Default.String("5s")
  String getMaxOutOfOrderness();

  void setMaxOutOfOrderness(String value);

  @Description("A Kafka partition that has delivered nothing for this long stops holding the"
      + " watermark back.")
  @Default.String("30s")
  String getIdleTimeout();

  void setIdleTimeout(String value);

  @Description("How far behind the watermark an event may come and still count: the watermark is"
      + " held back by this much more, so a date is published once the events' watermark passes"
      + " its as-of instant plus this, and an event that first counts for a date already"
      + " published is quarantined as LATE:<timestamp field> (e.g. 0s, 10m, 1h).")
  @Default.String("0s")
  String getAllowedLateness();

  void setAllowedLateness(String value);

  @Description("Also keep the online store current: redis://[USER:PASSWORD@]HOST:PORT[/DB] (or the"
      + " password in REDIS_PASSWORD). An entity's state is written within a second of an event"
      + " that changes it, starting from the state a batch run stored, never replacing one that"
      + " includes more.")
  String getOnlineStore();

  void setOnlineStore(String value);

  @Description("Parquet files per as-of partition; an entity's file is chosen by a stable hash of"
      + " its key.")
  @Default.Integer(1)
  int getShardsPerPartition();

  void setShardsPerPartition(int value);
}
