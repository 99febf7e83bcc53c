package dev.featurebeam.pipelines.generate;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * Options of {@code featurebeam generate}. The defaults are {@link GeneratorConfig.Builder}'s (a
 * test holds them equal); {@link #toConfig} turns the options into the generator's config.
 */
public interface GenerateOptions extends PipelineOptions {
  @Description("Where the events go: FILE (.csv, .jsonl or .parquet; with --shards above 1 a"
      + " folder of FILE's shards) or kafka://HOST:PORT/TOPIC.")
  @Validation.Required
  String getOut();

  void setOut(String value);

  @Description("Base events to generate, each with its own event_id.")
  @Default.Long(100_000)
  long getEvents();

  void setEvents(long value);

  @Description("Distinct users the events belong to.")
  @Default.Integer(2_000)
  int getUsers();

  void setUsers(int value);

  @Description("Days the events span, from --startDate.")
  @Default.Integer(60)
  int getDays();

  void setDays(int value);

  @Description("First day of the events, YYYY-MM-DD (UTC).")
  @Default.String("2025-01-01")
  String getStartDate();

  void setStartDate(String value);

  @Description("Seed of the generator: the same options and seed give the same bytes.")
  @Default.Long(42)
  long getSeed();

  void setSeed(long value);

  @Description("Zipf exponent of user activity: 0 = every user alike, 1 = the classic long tail.")
  @Default.Double(1.0)
  double getSkew();

  void setSkew(double value);

  @Description("Extra records that repeat an earlier event_id, as a fraction of --events (half"
      + " exact copies, half conflicting).")
  @Default.Double(0.005)
  double getDuplicateFraction();

  void setDuplicateFraction(double value);

  @Description("Events broken on purpose (for the quarantine), as a fraction of --events.")
  @Default.Double(0.002)
  double getMalformedFraction();

  void setMalformedFraction(double value);

  @Description("Files to write; above 1, FILE is a folder of out-000-of-00N files. Files only.")
  @Default.Integer(1)
  int getShards();

  void setShards(int value);

  @Description("csv, jsonl or parquet, overriding what FILE's extension says. Files only.")
  String getFormat();

  void setFormat(String value);

  @Description("Records a second sent to Kafka, evenly spaced; without it, as fast as the broker"
      + " takes them. Kafka only.")
  Double getRate();

  void setRate(Double value);

  @Description("Give each record the wall-clock time at which it is sent as its ts, in the ts"
      + " form it was generated in (a record with a bad or missing ts keeps it), instead of a time"
      + " within --startDate and --days: a live stream for measuring the watermark's lag. Copies"
      + " then differ from their originals in ts. Kafka only.")
  @Default.Boolean(false)
  boolean getLiveTimestamps();

  void setLiveTimestamps(boolean value);

  @Description("Partitions of a Kafka topic that does not exist yet; an existing topic keeps its"
      + " own. Kafka only.")
  @Default.Integer(KafkaTarget.DEFAULT_PARTITIONS)
  int getPartitions();

  void setPartitions(int value);

  /** The generator's config from these options; an error names the option. */
  static GeneratorConfig toConfig(GenerateOptions o) {
    GeneratorConfig.Builder b = GeneratorConfig.builder()
        .events(o.getEvents())
        .users(o.getUsers())
        .days(o.getDays())
        .seed(o.getSeed())
        .skew(o.getSkew())
        .duplicateFraction(o.getDuplicateFraction())
        .malformedFraction(o.getMalformedFraction())
        .shards(o.getShards());
    b.set("startDate", o.getStartDate());
    if (o.getFormat() != null) {
      b.set("format", o.getFormat());
    }
    return b.build();
  }
}
