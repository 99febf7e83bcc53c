package dev.featurebeam.benchmarks;

import dev.featurebeam.io.source.JsonLineParser;
import dev.featurebeam.model.RawRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The read path's upper bound for the stream benchmark: one plain Kafka consumer on one thread
 * reads a whole topic from its first offset and parses every value as FeatureBeam's reader does
 * ({@link JsonLineParser}), and nothing else: no validation, no state, no output. Prints the
 * records read, the malformed ones, and the rate from the first record to the last.
 *
 * <pre>{@code
 * java -cp featurebeam.jar:classes dev.featurebeam.benchmarks.PlainKafkaJson 127.0.0.1:9092 bench
 * }</pre>
 */
public final class PlainKafkaJson {
  private PlainKafkaJson() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: PlainKafkaJson HOST:PORT TOPIC");
      System.exit(2);
    }
    Properties config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
        config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(args[1], Duration.ofSeconds(15))
          .stream().map(p -> new TopicPartition(p.topic(), p.partition()))
          .collect(Collectors.toList());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
      long records = 0;
      long malformed = 0;
      long fields = 0;
      long first = 0;
      long last = 0;
      while (!end.isEmpty()) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofSeconds(5));
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          if (records++ == 0) {
            first = System.nanoTime();
          }
          String text = r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8);
          RawRecord parsed = JsonLineParser.parse(r.topic() + "/" + r.partition() + "@" + r.offset(),
              text);
          if (parsed.formatError() != null) {
            malformed++;
          } else {
            fields += parsed.fields().size();
          }
        }
        last = System.nanoTime();
        end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
      }
      double seconds = (last - first) / 1e9;
      System.out.printf(Locale.ROOT,
          "plain consumer: %d records (%d malformed, %d fields) in %.2f s, %.0f records/s%n",
          records, malformed, fields, seconds, records / seconds);
    }
  }
}
