package dev.featurebeam.pipelines.generate;

import java.util.Locale;

/**
 * What {@link EventGenerator#send} sent, counted from the records themselves (the counts mean
 * what {@link GenerationSummary}'s do).
 *
 * @param partitions the topic's partition count
 * @param seconds from the first send to the acknowledgement of the last record
 */
public record KafkaSummary(
    KafkaTarget target,
    int partitions,
    long records,
    long events,
    long malformed,
    long exactDuplicates,
    long conflictingDuplicates,
    double seconds) {

  /** Records acknowledged per second; 0 when nothing was sent. */
  public double recordsPerSecond() {
    return seconds > 0 ? records / seconds : 0;
  }

  /** One line for a command line to print. */
  public String describe() {
    return String.format(Locale.ROOT,
        "sent %d records (%d events, %d malformed, %d exact + %d conflicting duplicates) to %s"
            + " (%d partitions) in %.2f s, %.0f records/s",
        records, events, malformed, exactDuplicates, conflictingDuplicates, target, partitions,
        seconds, recordsPerSecond());
  }
}
