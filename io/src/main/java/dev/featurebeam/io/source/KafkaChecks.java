package dev.featurebeam.io.source;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.joda.time.Duration;

/** {@link KafkaSource}'s checks of its servers and topic, before a pipeline starts. */
final class KafkaChecks {
  private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  private KafkaChecks() {}

  /** {@link KafkaSource#checkReachable}. */
  static int reachable(String bootstrapServers, String topic, Duration timeout) {
    checkServers(bootstrapServers);
    checkTopic(topic);
    checkArgument(timeout != null && timeout.isLongerThan(Duration.ZERO),
        "timeout must be positive, got %s", timeout);
    int millis = (int) Math.min(Integer.MAX_VALUE, timeout.getMillis());
    String seconds = timeout.getMillis() % 1000 == 0
        ? timeout.getStandardSeconds() + " s" : timeout.getMillis() + " ms";
    Admin admin;
    try {
      admin = Admin.create(Map.of(
          AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
          AdminClientConfig.CLIENT_ID_CONFIG, "featurebeam-kafka-check",
          AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, millis,
          AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis));
    } catch (KafkaException e) { // e.g. a host name that does not resolve
      throw new SchemaContractException(
          "cannot reach Kafka at " + bootstrapServers + ": " + rootMessage(e), e);
    }
    try {
      return admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs(millis))
          .allTopicNames()
          // The admin client times the call out itself; this bounds the wait if it does not.
          .get(millis + 1000L, TimeUnit.MILLISECONDS)
          .get(topic)
          .partitions()
          .size();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof UnknownTopicOrPartitionException) {
        throw new SchemaContractException(
            "Kafka topic " + topic + " does not exist at " + bootstrapServers, cause);
      }
      if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
        throw new SchemaContractException(
            "no Kafka broker answered at " + bootstrapServers + " within " + seconds, cause);
      }
      throw new SchemaContractException("cannot describe Kafka topic " + topic + " at "
          + bootstrapServers + ": " + rootMessage(cause), cause);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new SchemaContractException(
          "no Kafka broker answered at " + bootstrapServers + " within " + seconds, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaContractException(
          "interrupted while checking Kafka topic " + topic + " at " + bootstrapServers, e);
    } finally {
      admin.close(java.time.Duration.ZERO);
    }
  }

  static void checkServers(String servers) {
    checkArgument(servers != null && !servers.isBlank(), "bootstrapServers is empty");
    for (String server : servers.split(",", -1)) {
      String s = server.strip();
      int colon = s.lastIndexOf(':');
      String port = colon < 0 ? "" : s.substring(colon + 1);
      checkArgument(colon > 0 && port.matches("[0-9]{1,5}") && Integer.parseInt(port) >= 1
              && Integer.parseInt(port) <= 65535,
          "bootstrap server '%s' is not HOST:PORT (in %s)", s, servers);
    }
  }

  static void checkTopic(String topic) {
    checkArgument(topic != null && TOPIC.matcher(topic).matches()
            && !topic.equals(".") && !topic.equals(".."),
        "'%s' is not a Kafka topic name: 1 to 249 of a-z, A-Z, 0-9, '.', '_' and '-'", topic);
  }

  /** The innermost cause's message: Kafka wraps e.g. an unresolvable host in generic ones. */
  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
