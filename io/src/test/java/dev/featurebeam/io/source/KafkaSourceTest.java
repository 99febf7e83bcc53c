package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.options.ExperimentalOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class KafkaSourceTest {
  private static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: user_features",
      "version: 3",
      "entity: user_id",
      "timestamp: ts",
      "source_schema:",
      "  user_id: {type: string, required: true}",
      "  ts:      {type: timestamp, required: true}",
      "features:",
      "  - {name: n_7d, agg: count, window: 7d}",
      ""));
  private static final String SERVERS = "127.0.0.1:9092";

  private static KafkaSource source() {
    return KafkaSource.read(SERVERS, "events", SPEC);
  }

  @Test
  void defaults() {
    KafkaSource s = source();
    assertThat(s.groupId(), is("featurebeam-user_features-v3"));
    assertThat(s.maxOutOfOrderness(), equalTo(Duration.standardSeconds(5)));
    assertThat(s.idleTimeout(), equalTo(Duration.standardSeconds(30)));
    assertThat(s.commitOffsetsInFinalize(), is(true));
    assertThat(s.startPosition(), is(KafkaSource.StartPosition.EARLIEST));
    assertThat(s.maxReadTime() == null, is(true));
  }

  @Test
  void theConsumerJoinsTheGroupStartsWhereToldAndNeverCreatesTheTopic() {
    Map<String, Object> config = source().kafkaConsumerConfig();
    assertThat(config.get("group.id"), is("featurebeam-user_features-v3"));
    assertThat(config.get("auto.offset.reset"), is("earliest"));
    assertThat(config.get("allow.auto.create.topics"), is(false));

    Map<String, Object> more = new HashMap<>();
    more.put("security.protocol", "PLAINTEXT");
    more.put("max.poll.records", 100);
    Map<String, Object> set = source()
        .withGroupId("replay-7")
        .withStartPosition(KafkaSource.StartPosition.LATEST)
        .withConsumerConfig(more)
        .kafkaConsumerConfig();
    assertThat(set.get("group.id"), is("replay-7"));
    assertThat(set.get("auto.offset.reset"), is("latest"));
    assertThat(set.get("security.protocol"), is("PLAINTEXT"));
    assertThat(set.get("max.poll.records"), is(100));
    assertThat("replaced, not added to", source().withConsumerConfig(more)
        .withConsumerConfig(Map.of("client.rack", "r1")).kafkaConsumerConfig()
        .containsKey("security.protocol"), is(false));
  }

  @Test
  void everyArgumentIsChecked() {
    Map<Executable, String> bad = new java.util.LinkedHashMap<>();
    bad.put(() -> KafkaSource.read(null, "events", SPEC), "bootstrapServers is empty");
    bad.put(() -> KafkaSource.read(" ", "events", SPEC), "bootstrapServers is empty");
    bad.put(() -> KafkaSource.read("localhost", "events", SPEC),
        "bootstrap server 'localhost' is not HOST:PORT (in localhost)");
    bad.put(() -> KafkaSource.read("a:1,b:x", "events", SPEC),
        "bootstrap server 'b:x' is not HOST:PORT (in a:1,b:x)");
    bad.put(() -> KafkaSource.read("a:1,", "events", SPEC), "bootstrap server '' is not HOST:PORT");
    bad.put(() -> KafkaSource.read(":9092", "events", SPEC), "bootstrap server ':9092'");
    bad.put(() -> KafkaSource.read("a:0", "events", SPEC), "bootstrap server 'a:0'");
    bad.put(() -> KafkaSource.read("a:65536", "events", SPEC), "bootstrap server 'a:65536'");
    bad.put(() -> KafkaSource.read(SERVERS, null, SPEC), "'null' is not a Kafka topic name");
    bad.put(() -> KafkaSource.read(SERVERS, "", SPEC), "'' is not a Kafka topic name");
    bad.put(() -> KafkaSource.read(SERVERS, "my events", SPEC), "'my events' is not a Kafka topic");
    bad.put(() -> KafkaSource.read(SERVERS, "..", SPEC), "'..' is not a Kafka topic name");
    bad.put(() -> KafkaSource.read(SERVERS, "t".repeat(250), SPEC), "is not a Kafka topic name");
    bad.put(() -> KafkaSource.read(SERVERS, "events", null), "spec is null");
    bad.put(() -> source().withMaxOutOfOrderness(null), "maxOutOfOrderness must be zero or more");
    bad.put(() -> source().withMaxOutOfOrderness(Duration.millis(-1)),
        "maxOutOfOrderness must be zero or more, got PT-0.001S");
    bad.put(() -> source().withIdleTimeout(null), "idleTimeout must be positive, got null");
    bad.put(() -> source().withIdleTimeout(Duration.ZERO), "idleTimeout must be positive, got PT0S");
    bad.put(() -> source().withGroupId(null), "groupId is empty");
    bad.put(() -> source().withGroupId(" "), "groupId is empty");
    bad.put(() -> source().withStartPosition(null), "startPosition is null");
    bad.put(() -> source().withMaxReadTime(null), "maxReadTime must be positive, got null");
    bad.put(() -> source().withMaxReadTime(Duration.ZERO), "maxReadTime must be positive");
    bad.put(() -> source().withConsumerConfig(null), "consumer config is null");
    bad.put(() -> source().withConsumerConfig(Map.of("group.id", "g")),
        "consumer config group.id is KafkaSource's own: use withGroupId");
    bad.put(() -> source().withConsumerConfig(Map.of("bootstrap.servers", "h:1")),
        "consumer config bootstrap.servers is KafkaSource's own: read() takes the servers");
    bad.put(() -> source().withConsumerConfig(Map.of("auto.offset.reset", "latest")),
        "use withStartPosition");
    bad.put(() -> source().withConsumerConfig(Map.of("enable.auto.commit", true)),
        "consumer config enable.auto.commit is KafkaSource's own: it would commit offsets of"
            + " records not yet processed");
    bad.put(() -> source().withConsumerConfig(Map.of("value.deserializer", "x")),
        "KafkaSource parses values itself");
    bad.put(() -> source().withConsumerConfig(Map.of("key.deserializer", "x")),
        "KafkaSource ignores keys");
    bad.put(() -> source().withConsumerConfig(Map.of(" ", "x")), "consumer config has an empty key");
    Map<String, Object> nullValue = new HashMap<>();
    nullValue.put("client.rack", null);
    bad.put(() -> source().withConsumerConfig(nullValue),
        "consumer config client.rack must have a serializable value, got null");
    bad.put(() -> source().withConsumerConfig(Map.of("client.rack", new Object())),
        "consumer config client.rack must have a serializable value");
    bad.put(() -> KafkaSource.checkReachable("nohost", "events", Duration.standardSeconds(1)),
        "bootstrap server 'nohost' is not HOST:PORT");
    bad.put(() -> KafkaSource.checkReachable(SERVERS, "a/b", Duration.standardSeconds(1)),
        "'a/b' is not a Kafka topic name");
    bad.put(() -> KafkaSource.checkReachable(SERVERS, "events", Duration.ZERO),
        "timeout must be positive, got PT0S");
    bad.put(() -> KafkaSource.checkReachable(SERVERS, "events", null),
        "timeout must be positive, got null");
    for (Map.Entry<Executable, String> b : bad.entrySet()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b.getKey(),
          b.getValue());
      assertThat(e.getMessage(), containsString(b.getValue()));
    }
  }

  @Test
  void aSpecWithoutATimestampFieldToReadIsRefused() {
    FeatureSpec noTimestampField = FeatureSpec.of(SPEC.featureSet(), SPEC.version(), SPEC.entity(),
        "when", SPEC.dedupKey(), SPEC.dedupWithinMillis(), SPEC.asOf(), SPEC.sourceTimezone(),
        SPEC.fields(),
        SPEC.features(), SPEC.quality(), SPEC.sha256());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KafkaSource.read(SERVERS, "events", noTimestampField));
    assertThat(e.getMessage(),
        is("the spec's timestamp when is not a timestamp field of its source schema"));
  }

  @Test
  void displayData() {
    KafkaSource s = source()
        .withMaxOutOfOrderness(Duration.standardSeconds(2))
        .withIdleTimeout(Duration.standardSeconds(9))
        .withMaxReadTime(Duration.standardMinutes(1))
        .withConsumerConfig(Map.of("sasl.jaas.config", "secret", "security.protocol", "SASL_SSL"));
    Map<String, Object> items = new HashMap<>();
    for (DisplayData.Item item : DisplayData.from(s).items()) {
      items.put(item.getKey(), item.getValue());
    }
    assertThat(items.get("bootstrapServers"), is(SERVERS));
    assertThat(items.get("topic"), is("events"));
    assertThat(items.get("maxOutOfOrderness"), is(Duration.standardSeconds(2).getMillis()));
    assertThat(items.get("idleTimeout"), is(Duration.standardSeconds(9).getMillis()));
    assertThat(items.get("groupId"), is("featurebeam-user_features-v3"));
    assertThat(items.get("commitOffsetsInFinalize"), is(true));
    assertThat(items.get("startPosition"), is("EARLIEST"));
    assertThat(items.get("maxReadTime"), is(Duration.standardMinutes(1).getMillis()));
    assertThat("names, never values", items.get("consumerConfig"),
        is("sasl.jaas.config,security.protocol"));
    assertThat(items.values(), not(hasItem("secret")));
    assertThat(DisplayData.from(source()).items().stream()
        .anyMatch(i -> i.getKey().equals("maxReadTime")), is(false));
  }

  /** The transforms' class names in an expanded pipeline, composites included. */
  private static List<String> transforms(Pipeline p) {
    List<String> names = new ArrayList<>();
    p.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
        if (node.getTransform() != null) {
          names.add(node.getTransform().getClass().getName());
        }
        return CompositeBehavior.ENTER_TRANSFORM;
      }

      @Override
      public void visitPrimitiveTransform(TransformHierarchy.Node node) {
        names.add(node.getTransform().getClass().getName());
      }
    });
    return names;
  }

  private static Pipeline pipeline(String... experiments) {
    ExperimentalOptions options = PipelineOptionsFactory.as(ExperimentalOptions.class);
    if (experiments.length > 0) {
      options.setExperiments(List.of(experiments));
    }
    return Pipeline.create(options);
  }

  private static final String VIA_READER = KafkaIO.class.getName() + "$Read$ReadFromKafkaViaUnbounded";
  private static final String VIA_DOFN = KafkaIO.class.getName() + "$Read$ReadFromKafkaViaSDF";

  @Test
  void kafkaIoReadsThroughItsReaderUnlessAnExperimentSaysOtherwise() {
    // The facts the policy rests on, in Beam 2.62 on the Direct (and classic Flink) runner.
    for (String[] experiments : new String[][] {{}, {"use_sdf_read"}, {"beam_fn_api"},
        {"use_sdf_read", "use_deprecated_read"}}) {
      Pipeline plain = pipeline(experiments);
      plain.apply(KafkaIO.<String, String>read().withBootstrapServers(SERVERS).withTopic("events")
          .withKeyDeserializerAndCoder(StringDeserializer.class, StringUtf8Coder.of())
          .withValueDeserializerAndCoder(StringDeserializer.class, StringUtf8Coder.of()));
      boolean reader = experiments.length == 0 || experiments.length == 2;
      assertThat(List.of(experiments).toString(), transforms(plain),
          hasItem(reader ? VIA_READER : VIA_DOFN));
    }
  }

  @Test
  void theSourceReadsThroughKafkaIosReader() {
    Pipeline p = pipeline();
    PCollection<RawRecord> raw = p.apply(source());
    List<String> names = transforms(p);
    assertThat(names, hasItem(VIA_READER));
    assertThat(names, hasItem("org.apache.beam.sdk.io.Read$Unbounded"));
    assertThat(names, not(hasItem(VIA_DOFN)));
    assertThat("the options are left alone",
        p.getOptions().as(ExperimentalOptions.class).getExperiments() == null, is(true));
    assertThat(raw.isBounded(), is(PCollection.IsBounded.UNBOUNDED));
    assertThat(raw.getCoder(), instanceOf(RawRecord.RawRecordCoder.class));

    Pipeline forced = pipeline("use_sdf_read", "use_deprecated_read");
    forced.apply(source());
    assertThat(transforms(forced), hasItem(VIA_READER));
  }

  @Test
  void optionsThatWouldReadThroughTheSplittableDoFnAreRefused() {
    for (String experiment : List.of("use_sdf_read", "beam_fn_api")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> pipeline(experiment).apply(source()));
      assertThat(e.getMessage(), is("KafkaSource cannot read with --experiments=" + experiment
          + ": KafkaIO then reads through its splittable DoFn, which restarts the idle clock of a"
          + " partition's watermark after every empty poll; add"
          + " --experiments=use_deprecated_read to read through its UnboundedSource reader"));
    }
  }

  @Test
  void aMaxReadTimeMakesTheReadBoundedThroughTheReader() {
    Pipeline p = pipeline("use_sdf_read");
    PCollection<RawRecord> raw = p.apply(source().withMaxReadTime(Duration.standardSeconds(3)));
    assertThat(raw.isBounded(), is(PCollection.IsBounded.BOUNDED));
    assertThat(transforms(p), hasItem("org.apache.beam.sdk.io.BoundedReadFromUnboundedSource"));
    assertThat(transforms(p), hasItem(VIA_READER));
  }

  @Test
  void checkReachableNamesAHostThatDoesNotResolve() {
    SchemaContractException e = assertThrows(SchemaContractException.class,
        () -> KafkaSource.checkReachable("no-such-host.invalid:9092", "events",
            Duration.standardSeconds(2)));
    assertThat(e.getMessage(), containsString("no-such-host.invalid:9092"));
  }
}
