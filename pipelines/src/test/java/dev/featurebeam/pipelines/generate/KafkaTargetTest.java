package dev.featurebeam.pipelines.generate;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** How --out=kafka://HOST:PORT/TOPIC, --partitions and --rate are read and refused. */
class KafkaTargetTest {

  @Test
  void hostPortAndTopicComeFromTheUri() {
    KafkaTarget t = KafkaTarget.parse("kafka://127.0.0.1:9092/user-events.v1_raw");
    assertThat(t.bootstrap(), is("127.0.0.1:9092"));
    assertThat(t.topic(), is("user-events.v1_raw"));
    assertThat(t.partitions(), is(KafkaTarget.DEFAULT_PARTITIONS));
    assertThat("no pacing unless asked", t.rate(), is(0.0));
    assertThat(t.toString(), is("kafka://127.0.0.1:9092/user-events.v1_raw"));
    assertThat(KafkaTarget.parse("KAFKA://broker.example:19092/e").bootstrap(), is("broker.example:19092"));
  }

  @Test
  void onlyTheKafkaSchemeNamesATopic() {
    assertThat(KafkaTarget.isKafka("kafka://h:1/t"), is(true));
    assertThat(KafkaTarget.isKafka("Kafka://h:1/t"), is(true));
    assertThat(KafkaTarget.isKafka("out/kafka.jsonl"), is(false));
    assertThat(KafkaTarget.isKafka("kafka/events.jsonl"), is(false));
  }

  @Test
  void aUriWithoutPortOrTopicOrWithExtrasIsRefused() {
    for (String bad : new String[] {
        "kafka://127.0.0.1/events", // no port
        "kafka://127.0.0.1:9092", // no topic
        "kafka://127.0.0.1:9092/",
        "kafka://:9092/events", // no host
        "kafka://127.0.0.1:9092/events?acks=1",
        "kafka://127.0.0.1:9092/events#x",
        "kafka://user@127.0.0.1:9092/events",
        "kafka://127.0.0.1:9092/bad topic"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KafkaTarget.parse(bad), bad);
      assertThat(e.getMessage(), containsString("kafka://HOST:PORT/TOPIC"));
    }
  }

  @Test
  void aTopicNameKafkaWouldRefuseIsRefusedHereNamingIt() {
    for (String topic : new String[] {"a/b", "..", ".", "caf%C3%A9", "x".repeat(250)}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> KafkaTarget.parse("kafka://h:9092/" + topic), topic);
      assertThat(e.getMessage(), containsString("'" + topic + "'"));
    }
    assertThat(KafkaTarget.parse("kafka://h:9092/" + "x".repeat(249)).topic().length(), is(249));
  }

  @Test
  void partitionsAndRateMustBePositive() {
    KafkaTarget t = KafkaTarget.parse("kafka://h:9092/t");
    assertThat(t.withPartitions(5).withRate(2000).partitions(), is(5));
    assertThat(t.withPartitions(5).withRate(2000).rate(), is(2000.0));
    assertThrows(IllegalArgumentException.class, () -> t.withPartitions(0));
    assertThrows(IllegalArgumentException.class, () -> t.withRate(0));
    assertThrows(IllegalArgumentException.class, () -> t.withRate(-5));
    assertThrows(IllegalArgumentException.class, () -> t.withRate(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> t.withRate(Double.POSITIVE_INFINITY));
  }
}
