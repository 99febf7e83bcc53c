package dev.featurebeam.pipelines.generate;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends generated records to one Kafka topic, one message per record: the value is the record's
 * JSON-lines rendering ({@link GeneratedEvent#toJsonLine}, without the newline), the key its
 * user_id (none for a record without one), both UTF-8.
 *
 * <p>The producer is idempotent with acks=all, so a record lands once even when a send is retried,
 * and each partition holds its records in the order they were sent. Every wait on the broker is
 * bounded ({@link #WAIT}, and {@link #DELIVERY} for a record's delivery), so an unreachable broker
 * fails the run instead of hanging it.
 */
final class KafkaEventSink implements EventSinks.Sink {
  /** The longest any single request, topic creation or blocked send waits for the broker. */
  static final Duration WAIT = Duration.ofSeconds(10);
  /**
   * The longest a record may take from send to acknowledgement, retries included: Kafka's own
   * default, since a busy broker on a loaded machine can stall a partition for tens of seconds.
   */
  static final Duration DELIVERY = Duration.ofSeconds(120);

  private final KafkaTarget target;
  private final int partitions;
  private final KafkaProducer<String, String> producer;
  private final Pacer pacer;
  /** Stamps each record with the wall-clock time of its send (--liveTimestamps). */
  private final boolean live;
  /** The first failed delivery; the producer's I/O thread sets it. */
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private long firstSend;
  private long lastAck;
  private long sent;

  private KafkaEventSink(KafkaTarget target, int partitions, KafkaProducer<String, String> producer,
      boolean live) {
    this.target = target;
    this.live = live;
    this.partitions = partitions;
    this.producer = producer;
    this.pacer = new Pacer(target.rate());
  }

  /** Creates the topic when it does not exist, then a producer for it. */
  static KafkaEventSink open(KafkaTarget target) throws IOException {
    return open(target, false);
  }

  /** As {@link #open(KafkaTarget)}; {@code live} stamps each record with its send time. */
  static KafkaEventSink open(KafkaTarget target, boolean live) throws IOException {
    int partitions = ensureTopic(target);
    KafkaProducer<String, String> producer;
    try {
      producer = new KafkaProducer<>(producerConfig(target), new StringSerializer(), new StringSerializer());
    } catch (KafkaException e) {
      throw new IOException(message(e), e);
    }
    try {
      // The topic's metadata before the first record: otherwise the first send waits for it while
      // the pace's clock runs, and the records due meanwhile go out in a burst.
      producer.partitionsFor(target.topic());
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw new IOException("no metadata for topic " + target.topic() + " from " + target.bootstrap()
          + " within " + WAIT.toSeconds() + " s: " + message(e), e);
    }
    return new KafkaEventSink(target, partitions, producer, live);
  }

  static Map<String, Object> producerConfig(KafkaTarget target) {
    return Map.ofEntries(
        Map.entry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrap()),
        Map.entry(ProducerConfig.CLIENT_ID_CONFIG, "featurebeam-generate"),
        Map.entry(ProducerConfig.ACKS_CONFIG, "all"),
        Map.entry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
        // Throughput: batches of up to 256 KiB that wait at most 5 ms to fill, compressed.
        Map.entry(ProducerConfig.LINGER_MS_CONFIG, 5),
        Map.entry(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024),
        Map.entry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
        Map.entry(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) WAIT.toMillis()),
        Map.entry(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis()),
        Map.entry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) DELIVERY.toMillis()));
  }

  /** The topic's partition count: the target's for a new topic, an existing topic's own. */
  private static int ensureTopic(KafkaTarget target) throws IOException {
    Admin admin;
    try {
      admin = Admin.create(Map.of(
          AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrap(),
          AdminClientConfig.CLIENT_ID_CONFIG, "featurebeam-generate-admin",
          AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis(),
          AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis()));
    } catch (KafkaException e) { // e.g. a host name that does not resolve
      throw new IOException(message(e), e);
    }
    try {
      try {
        admin.createTopics(List.of(new NewTopic(target.topic(), target.partitions(), (short) 1)))
            .all().get();
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
      return awaitLeaders(admin, target);
    } catch (ExecutionException e) {
      throw new IOException(e.getCause() instanceof TimeoutException
          ? "no Kafka broker answered at " + target.bootstrap() + " within " + WAIT.toSeconds() + " s"
          : "cannot create topic " + target.topic() + ": " + message(e.getCause()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while creating topic " + target.topic(), e);
    } finally {
      admin.close(WAIT);
    }
  }

  /**
   * The topic's partition count, once every partition has a leader: a topic just created may
   * have none yet, and records sent meanwhile wait in the producer against the delivery timeout.
   */
  private static int awaitLeaders(Admin admin, KafkaTarget target)
      throws ExecutionException, InterruptedException, IOException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      List<TopicPartitionInfo> partitions = admin.describeTopics(List.of(target.topic()))
          .allTopicNames().get().get(target.topic()).partitions();
      if (partitions.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
        return partitions.size();
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("a partition of topic " + target.topic() + " at "
            + target.bootstrap() + " had no leader within " + WAIT.toSeconds() + " s");
      }
      Thread.sleep(100);
    }
  }

  @Override
  public void write(GeneratedEvent e) throws IOException {
    throwIfFailed();
    pacer.await();
    if (live) {
      e = e.at(System.currentTimeMillis());
    }
    if (sent++ == 0) {
      firstSend = System.nanoTime();
    }
    try {
      producer.send(new ProducerRecord<>(target.topic(), e.userId(), e.toJsonLine()), (meta, ex) -> {
        if (ex != null) {
          failure.compareAndSet(null, ex);
        }
      });
    } catch (KafkaException ex) { // no metadata or buffer space within max.block.ms, or closed
      throw new IOException("sending to " + target + " failed: " + message(ex), ex);
    }
  }

  /** Waits until every record sent so far is acknowledged; throws the first failed delivery. */
  void flush() throws IOException {
    producer.flush();
    lastAck = System.nanoTime();
    throwIfFailed();
  }

  /** Seconds from the first send to the acknowledgement of the last, as of the last flush. */
  double seconds() {
    return sent == 0 ? 0 : (lastAck - firstSend) / 1e9;
  }

  int partitions() {
    return partitions;
  }

  private void throwIfFailed() throws IOException {
    Exception ex = failure.get();
    if (ex != null) {
      throw new IOException("sending to " + target + " failed: " + message(ex), ex);
    }
  }

  /** Closes the producer; records not yet delivered get at most {@link #WAIT} more. */
  @Override
  public void close() {
    producer.close(WAIT);
  }

  /** The innermost cause's message: Kafka wraps e.g. an unresolvable host in generic ones. */
  private static String message(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m;
  }
}
