package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.StoreCounters;
import dev.featurebeam.transforms.Counters;
import java.time.LocalDate;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The stream's progress line: records read and the rate since the line before, late and
 * quarantined records, and the partitions published (of the range's, when it has a last date) with
 * the last published date: {@code [  41.0 s] streaming  read 52,000 (4,100/s)  late 0
 * quarantined 104  published 3/11 (through 2025-01-12)}.
 */
final class StreamProgress implements Progress.Line {
  private final long dates;
  private final LongSupplier lastPublishedDay;
  private double lastSeconds;
  private long lastRead;

  /** {@code dates} is 0 for an open range; {@code lastPublishedDay} is -1 before the first. */
  StreamProgress(long dates, LongSupplier lastPublishedDay) {
    this.dates = dates;
    this.lastPublishedDay = lastPublishedDay;
  }

  @Override
  public synchronized String format(double seconds, ProgressSink s) {
    long late = s.stage(Counters.LATE);
    long read = s.stage(Counters.READ) + late;
    double span = seconds - lastSeconds;
    long rate = span > 0 ? Math.round((read - lastRead) / span) : 0;
    lastSeconds = seconds;
    lastRead = read;
    long published = s.store(StoreCounters.PARTITIONS_PUBLISHED);
    long rejected = s.store(StoreCounters.PARTITIONS_REJECTED);
    long day = lastPublishedDay.getAsLong();
    return String.format(Locale.ROOT,
        "[%6.1f s] streaming  read %,d (%,d/s)  late %,d  quarantined %,d  published %,d%s%s%s",
        seconds, read, rate, late, s.stage(Counters.QUARANTINED), published,
        dates > 0 ? "/" + String.format(Locale.ROOT, "%,d", dates) : "",
        rejected > 0 ? String.format(Locale.ROOT, "  rejected %,d", rejected) : "",
        day >= 0 ? " (through " + LocalDate.ofEpochDay(day) + ")" : "");
  }
}
