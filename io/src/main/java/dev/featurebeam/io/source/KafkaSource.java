package dev.featurebeam.io.source;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import com.google.common.collect.ImmutableMap;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import javax.annotation.Nullable;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.KafkaRecordCoder;
import org.apache.beam.sdk.options.ExperimentalOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.joda.time.Duration;

/**
 * Reads one Kafka topic into {@link RawRecord}s, one per message, with Beam's KafkaIO. A message
 * value is one JSON object, parsed as a JSON line is, so that validation treats it alike; any other
 * value is a malformed record for the quarantine, never dropped and never fatal ({@link
 * KafkaMessageParser}). Keys are ignored. A record's source is {@code TOPIC/PARTITION@OFFSET}.
 *
 * <p>A record's timestamp is its event time, the spec's timestamp field in the payload; one whose
 * event time cannot be read takes its partition's watermark. Per partition, the watermark trails
 * the greatest event time delivered by {@link #withMaxOutOfOrderness}, never goes back, and moves
 * on to {@code now - idleTimeout} once a partition is caught up and has delivered nothing for
 * {@link #withIdleTimeout}, a partition that never delivers included ({@link
 * KafkaEventTimePolicy}), all less {@link #withAllowedLateness}. The read is unbounded unless {@link #withMaxReadTime} bounds it.
 *
 * <p>Consumers join the group {@link #withGroupId} (by default {@code
 * featurebeam-<feature_set>-v<version>}) and commit the offsets of each finalized checkpoint, so a
 * restart without a checkpoint resumes after the last record a checkpoint covered; a group with no
 * committed offset starts where {@link #withStartPosition} says, the earliest by default. The
 * source never creates its topic. Call {@link #checkReachable} before the pipeline starts: an
 * absent broker or topic then fails at once, with a message naming it, instead of inside the run.
 *
 * <pre>{@code
 * KafkaSource.checkReachable("127.0.0.1:9092", "events", Duration.standardSeconds(10));
 * PCollection<RawRecord> raw = p.apply(KafkaSource.read("127.0.0.1:9092", "events", spec));
 * }</pre>
 */
@AutoValue
public abstract class KafkaSource extends PTransform<PBegin, PCollection<RawRecord>> {
  public static final Duration DEFAULT_MAX_OUT_OF_ORDERNESS = Duration.standardSeconds(5);
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.standardSeconds(30);

  /**
   * The read's gauges, in the stages' metrics namespace, one per Kafka partition
   * ({@code featurebeam:watermark_p<partition>}): the partition's watermark in epoch millis as of
   * its last record.
   */
  public static final String METRICS_NAMESPACE = "featurebeam";

  public static final String WATERMARK_GAUGE_PREFIX = "watermark_p";

  /**
   * Experiments under which KafkaIO 2.62 reads through its splittable DoFn instead of its {@code
   * UnboundedSource} reader ({@code KafkaIO.Read#expand}; so does it on Dataflow without either).
   * The DoFn makes a new timestamp policy each time it resumes a partition, which is after
   * every poll that returns nothing, so no policy there can tell how long a partition has been idle;
   * the reader keeps one per partition for as long as it reads.
   */
  private static final List<String> SPLITTABLE_READ_EXPERIMENTS =
      List.of("use_sdf_read", "beam_fn_api");

  /** Experiments that make KafkaIO read through its reader whatever else is set. */
  private static final List<String> UNBOUNDED_READER_EXPERIMENTS = List.of(
      "use_deprecated_read", "beam_fn_api_use_deprecated_read", "use_unbounded_sdf_wrapper");

  /** Consumer settings that KafkaSource owns, with what to use instead. */
  private static final Map<String, String> OWN_CONSUMER_KEYS = Map.of(
      ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "read() takes the servers",
      ConsumerConfig.GROUP_ID_CONFIG, "use withGroupId",
      ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "use withStartPosition",
      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
      "it would commit offsets of records not yet processed; offsets are committed as checkpoints"
          + " are finalized (withCommitOffsetsInFinalize)",
      ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "KafkaSource ignores keys",
      ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "KafkaSource parses values itself");

  /** Where a consumer group without a committed offset starts reading a partition. */
  public enum StartPosition {
    /** The partition's first record still kept by the broker. */
    EARLIEST,
    /** The next record written after the reader starts. */
    LATEST;

    String offsetReset() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public abstract String bootstrapServers();

  public abstract String topic();

  abstract FeatureSpec spec();

  public abstract Duration maxOutOfOrderness();

  public abstract Duration idleTimeout();

  public abstract Duration allowedLateness();

  public abstract String groupId();

  abstract boolean commitOffsetsInFinalize();

  abstract boolean dropReplayedOffsets();

  abstract StartPosition startPosition();

  abstract ImmutableMap<String, Object> consumerConfig();

  abstract @Nullable Duration maxReadTime();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setBootstrapServers(String servers);

    abstract Builder setTopic(String topic);

    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setMaxOutOfOrderness(Duration bound);

    abstract Builder setIdleTimeout(Duration timeout);

    abstract Builder setAllowedLateness(Duration lateness);

    abstract Builder setGroupId(String groupId);

    abstract Builder setCommitOffsetsInFinalize(boolean commit);

    abstract Builder setDropReplayedOffsets(boolean drop);

    abstract Builder setStartPosition(StartPosition position);

    abstract Builder setConsumerConfig(ImmutableMap<String, Object> config);

    abstract Builder setMaxReadTime(@Nullable Duration maxReadTime);

    abstract KafkaSource build();
  }

  /**
   * Reads {@code topic} from the brokers {@code bootstrapServers} ({@code HOST:PORT[,HOST:PORT...]})
   * with the event time of {@code spec}'s timestamp field.
   */
  public static KafkaSource read(String bootstrapServers, String topic, FeatureSpec spec) {
    KafkaChecks.checkServers(bootstrapServers);
    KafkaChecks.checkTopic(topic);
    checkArgument(spec != null, "spec is null");
    KafkaEventTimePolicy.EventTime.of(spec); // the spec has a timestamp field to read
    return new AutoValue_KafkaSource.Builder()
        .setBootstrapServers(bootstrapServers)
        .setTopic(topic)
        .setSpec(spec)
        .setMaxOutOfOrderness(DEFAULT_MAX_OUT_OF_ORDERNESS)
        .setIdleTimeout(DEFAULT_IDLE_TIMEOUT)
        .setAllowedLateness(Duration.ZERO)
        .setGroupId(defaultGroupId(spec))
        .setCommitOffsetsInFinalize(true)
        .setDropReplayedOffsets(false)
        .setStartPosition(StartPosition.EARLIEST)
        .setConsumerConfig(ImmutableMap.of())
        .setMaxReadTime(null)
        .build();
  }

  /** {@code featurebeam-<feature_set>-v<version>}: one group per feature set and version. */
  static String defaultGroupId(FeatureSpec spec) {
    return "featurebeam-" + spec.featureSet() + "-v" + spec.version();
  }

  /** How far a record's event time may lag the greatest one before it; 5 s unless set. */
  public KafkaSource withMaxOutOfOrderness(Duration bound) {
    checkArgument(bound != null && !bound.isShorterThan(Duration.ZERO),
        "maxOutOfOrderness must be zero or more, got %s", bound);
    return toBuilder().setMaxOutOfOrderness(bound).build();
  }

  /**
   * How long a caught-up partition delivers nothing before its watermark moves on with the clock,
   * to {@code now - timeout}; 30 s unless set. The reader learns a partition's end offset once a
   * second, so a timeout under a second acts as about one.
   */
  public KafkaSource withIdleTimeout(Duration timeout) {
    checkArgument(timeout != null && timeout.isLongerThan(Duration.ZERO),
        "idleTimeout must be positive, got %s", timeout);
    return toBuilder().setIdleTimeout(timeout).build();
  }

  /**
   * Holds every partition's watermark back by {@code lateness} more, so that a record up to that
   * far behind the events' watermark is still on time in every later stage, and each stage's
   * dates close that much later; zero unless set. Beam's own allowed lateness is per window, and
   * the stages that keep per-key state do not window by date, so the one place to allow it for
   * all of them alike is the watermark.
   */
  public KafkaSource withAllowedLateness(Duration lateness) {
    checkArgument(lateness != null && !lateness.isShorterThan(Duration.ZERO),
        "allowedLateness must be zero or more, got %s", lateness);
    return toBuilder().setAllowedLateness(lateness).build();
  }

  /** The consumer group whose committed offsets a restart resumes from. */
  public KafkaSource withGroupId(String groupId) {
    checkArgument(groupId != null && !groupId.isBlank(), "groupId is empty");
    return toBuilder().setGroupId(groupId).build();
  }

  /**
   * Whether each finalized checkpoint commits its offsets to the group (on unless set off). Off,
   * a restart without a checkpoint starts at {@link #withStartPosition} again.
   */
  public KafkaSource withCommitOffsetsInFinalize(boolean commit) {
    return toBuilder().setCommitOffsetsInFinalize(commit).build();
  }

  /**
   * Whether to pass each partition's offset once, by a keyed step with per-partition state after
   * the read (off unless set): what a job restored from a Flink checkpoint needs on Beam 2.62,
   * whose Flink source reads each partition twice after a restore (see {@link
   * DropReplayedOffsetsFn}). It costs a shuffle of every message by its partition.
   */
  public KafkaSource withReplayedOffsetsDropped(boolean drop) {
    return toBuilder().setDropReplayedOffsets(drop).build();
  }

  /** Where a group without a committed offset starts; {@link StartPosition#EARLIEST} unless set. */
  public KafkaSource withStartPosition(StartPosition position) {
    checkArgument(position != null, "startPosition is null");
    return toBuilder().setStartPosition(position).build();
  }

  /**
   * More Kafka consumer settings, e.g. security ones; they replace those given before. The
   * settings this transform owns are refused, each with what to use instead.
   */
  public KafkaSource withConsumerConfig(Map<String, ?> config) {
    checkArgument(config != null, "consumer config is null");
    ImmutableMap.Builder<String, Object> copy = ImmutableMap.builder();
    for (Map.Entry<String, ?> e : config.entrySet()) {
      String key = e.getKey();
      checkArgument(key != null && !key.isBlank(), "consumer config has an empty key");
      checkArgument(!OWN_CONSUMER_KEYS.containsKey(key),
          "consumer config %s is KafkaSource's own: %s", key, OWN_CONSUMER_KEYS.get(key));
      Object value = e.getValue();
      checkArgument(value instanceof Serializable,
          "consumer config %s must have a serializable value, got %s", key, value);
      copy.put(key, value);
    }
    return toBuilder().setConsumerConfig(copy.build()).build();
  }

  /**
   * Makes the read bounded, for tests and catch-up runs: each partition's reader stops at the first
   * moment, once {@code maxReadTime} has passed since it started, that it has no record waiting.
   * That is Beam's check: under a steady stream a reader never stops, and it may stop up to about
   * half of {@code maxReadTime} late (15 s at most), as it waits between polls with a back-off that
   * grows by half each time.
   */
  public KafkaSource withMaxReadTime(Duration maxReadTime) {
    checkArgument(maxReadTime != null && maxReadTime.isLongerThan(Duration.ZERO),
        "maxReadTime must be positive, got %s", maxReadTime);
    return toBuilder().setMaxReadTime(maxReadTime).build();
  }

  @Override
  public PCollection<RawRecord> expand(PBegin input) {
    checkUnboundedReader(input.getPipeline().getOptions());
    KafkaIO.Read<Void, RawRecord> read =
        KafkaIO.<Void, RawRecord>read()
            .withBootstrapServers(bootstrapServers())
            .withTopic(topic())
            .withKeyDeserializerAndCoder(KafkaMessageParser.NoKey.class, VoidCoder.of())
            .withValueDeserializerAndCoder(
                KafkaMessageParser.class, RawRecord.RawRecordCoder.of())
            .withConsumerConfigUpdates(kafkaConsumerConfig())
            .withTimestampPolicyFactory(new KafkaEventTimePolicy.Factory(
                KafkaEventTimePolicy.EventTime.of(spec()), maxOutOfOrderness(), idleTimeout(),
                KafkaEventTimePolicy.Clock.SYSTEM).withAllowedLateness(allowedLateness()));
    if (commitOffsetsInFinalize()) {
      read = read.commitOffsetsInFinalize();
    }
    if (maxReadTime() != null) {
      read = read.withMaxReadTime(maxReadTime());
    }
    PCollection<KafkaRecord<Void, RawRecord>> messages = input.apply("ReadTopic", read);
    if (dropReplayedOffsets()) {
      KafkaRecordCoder<Void, RawRecord> coder =
          KafkaRecordCoder.of(VoidCoder.of(), RawRecord.RawRecordCoder.of());
      messages = messages
          .apply("KeyByPartition", WithKeys.<Integer, KafkaRecord<Void, RawRecord>>of(
              KafkaRecord::getPartition).withKeyType(TypeDescriptors.integers()))
          .setCoder(KvCoder.of(VarIntCoder.of(), coder))
          .apply("DropReplayedOffsets", ParDo.of(new DropReplayedOffsetsFn()))
          .setCoder(coder);
    }
    return messages
        .apply("ToRawRecords", ParDo.of(new KafkaRecordsFn()))
        .setCoder(RawRecord.RawRecordCoder.of());
  }

  /**
   * Refuses options under which KafkaIO would not read through its {@code UnboundedSource} reader
   * (see {@link #SPLITTABLE_READ_EXPERIMENTS}); a bounded read always takes the reader.
   */
  void checkUnboundedReader(PipelineOptions options) {
    if (maxReadTime() != null || UNBOUNDED_READER_EXPERIMENTS.stream()
        .anyMatch(e -> ExperimentalOptions.hasExperiment(options, e))) {
      return;
    }
    // KafkaIO's own test (runnerPrefersLegacyRead): Dataflow's runner takes the splittable DoFn.
    checkArgument(!options.getRunner().getName().startsWith("org.apache.beam.runners.dataflow."),
        "KafkaSource on Dataflow needs --experiments=use_deprecated_read: without it KafkaIO reads"
            + " through its splittable DoFn, which restarts the idle clock of a partition's"
            + " watermark after every empty poll");
    for (String e : SPLITTABLE_READ_EXPERIMENTS) {
      checkArgument(!ExperimentalOptions.hasExperiment(options, e),
          "KafkaSource cannot read with --experiments=%s: KafkaIO then reads through its"
              + " splittable DoFn, which restarts the idle clock of a partition's watermark after"
              + " every empty poll; add --experiments=use_deprecated_read to read through its"
              + " UnboundedSource reader", e);
    }
  }

  /** The consumer settings given to KafkaIO, over its defaults. */
  Map<String, Object> kafkaConsumerConfig() {
    Map<String, Object> config = new HashMap<>();
    // A source never creates the topic it reads: with the consumer's default, the broker would
    // create a missing topic with one empty partition, and the read would wait on it for ever.
    config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    config.putAll(consumerConfig());
    config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId());
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, startPosition().offsetReset());
    return config;
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("bootstrapServers", bootstrapServers())
            .withLabel("Kafka bootstrap servers"))
        .add(DisplayData.item("topic", topic()).withLabel("Kafka topic"))
        .add(DisplayData.item("maxOutOfOrderness", maxOutOfOrderness())
            .withLabel("Watermark lag behind the greatest event time"))
        .add(DisplayData.item("idleTimeout", idleTimeout())
            .withLabel("Idle time before a caught-up partition's watermark follows the clock"))
        .add(DisplayData.item("allowedLateness", allowedLateness())
            .withLabel("Further watermark hold for late records"))
        .add(DisplayData.item("groupId", groupId()).withLabel("Kafka consumer group"))
        .add(DisplayData.item("commitOffsetsInFinalize", commitOffsetsInFinalize())
            .withLabel("Commit offsets of finalized checkpoints"))
        .add(DisplayData.item("dropReplayedOffsets", dropReplayedOffsets())
            .withLabel("Pass each partition's offset once"))
        .add(DisplayData.item("startPosition", startPosition().name())
            .withLabel("Start of a group without committed offsets"))
        .addIfNotNull(DisplayData.item("maxReadTime", maxReadTime()).withLabel("Maximum read time"));
    if (!consumerConfig().isEmpty()) {
      // Names only: values such as sasl.jaas.config hold credentials.
      builder.add(DisplayData.item("consumerConfig",
              String.join(",", new TreeSet<>(consumerConfig().keySet())))
          .withLabel("More consumer settings"));
    }
  }

  /**
   * Checks, before a pipeline starts, that a broker at {@code bootstrapServers} answers and knows
   * {@code topic}, within {@code timeout}: a read from a broker that is down would otherwise wait
   * on it, and a missing topic fail inside the run with a message that names neither.
   *
   * @return the topic's partition count
   * @throws SchemaContractException naming the servers or the topic when the broker does not
   *     answer within the timeout, the topic does not exist, or it cannot be described
   */
  public static int checkReachable(String bootstrapServers, String topic, Duration timeout) {
    return KafkaChecks.reachable(bootstrapServers, topic, timeout);
  }
}
