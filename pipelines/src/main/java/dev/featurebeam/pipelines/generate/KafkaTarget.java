package dev.featurebeam.pipelines.generate;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where {@link EventGenerator#send} sends the records: {@code kafka://HOST:PORT/TOPIC}, how many
 * partitions the topic gets if it does not exist yet, and the pace.
 *
 * @param bootstrap HOST:PORT of one broker, as Kafka's bootstrap.servers takes it
 * @param partitions for a topic that has to be created; an existing topic keeps its own
 * @param rate records per second, evenly spaced; 0 = as fast as the broker takes them
 */
public record KafkaTarget(String bootstrap, String topic, int partitions, double rate) {
  public static final String SCHEME = "kafka://";
  public static final int DEFAULT_PARTITIONS = 2;

  /** Kafka's own rule for topic names. */
  private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  public KafkaTarget {
    if (partitions < 1) {
      throw new IllegalArgumentException("--partitions must be >= 1");
    }
    if (!(rate >= 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("--rate must be a positive number of records per second");
    }
  }

  /** Whether an --out value names a Kafka topic rather than a file. */
  public static boolean isKafka(String out) {
    return out.toLowerCase(Locale.ROOT).startsWith(SCHEME);
  }

  /** Parses {@code kafka://HOST:PORT/TOPIC}, with the default partitions and no pacing. */
  public static KafkaTarget parse(String out) {
    String usage = "--out=" + out + ": a Kafka target is kafka://HOST:PORT/TOPIC";
    if (!isKafka(out)) {
      throw new IllegalArgumentException(usage);
    }
    URI uri;
    try {
      uri = new URI(out);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(usage + " (" + e.getReason() + ")");
    }
    // getHost() is null for names the URI grammar rejects, e.g. with an underscore.
    if (uri.getHost() == null || uri.getPort() < 0 || uri.getRawUserInfo() != null
        || uri.getRawQuery() != null || uri.getRawFragment() != null
        || uri.getRawPath() == null || uri.getRawPath().length() < 2) {
      throw new IllegalArgumentException(usage);
    }
    String topic = uri.getRawPath().substring(1);
    if (!TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw new IllegalArgumentException("--out=" + out + ": the topic name '" + topic
          + "' must be 1 to 249 of the characters a-z A-Z 0-9 . _ -");
    }
    return new KafkaTarget(uri.getHost() + ":" + uri.getPort(), topic, DEFAULT_PARTITIONS, 0);
  }

  public KafkaTarget withPartitions(int n) {
    return new KafkaTarget(bootstrap, topic, n, rate);
  }

  public KafkaTarget withRate(double recordsPerSecond) {
    if (!(recordsPerSecond > 0)) {
      throw new IllegalArgumentException("--rate must be a positive number of records per second");
    }
    return new KafkaTarget(bootstrap, topic, partitions, recordsPerSecond);
  }

  @Override
  public String toString() {
    return SCHEME + bootstrap + "/" + topic;
  }
}
