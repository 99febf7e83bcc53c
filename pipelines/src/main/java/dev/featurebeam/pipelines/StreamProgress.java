package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.StoreCounters;
import dev.featurebeam.transforms.Counters;
import java.time.LocalDate;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The stream's progress line: records read and the rate since the line before, the watermark
 * and its lag behind the wall clock (once the source has reported one), late and quarantined
 * records, and the partitions published (of the range's, when it has a last date) with the last
 * published date: {@code [  41.0 s] streaming  read 52,000 (4,100/s)  watermark
 * 2025-01-12T10:00:05Z (lag 1y 325d)  late 0  quarantined 104  published 3/11 (through
 * 2025-01-12)}.
 */
final class StreamProgress implements Progress.Line {
  private final long dates;
  private final LongSupplier lastPublishedDay;
  private final LongSupplier clock;
  private double lastSeconds;
  private long lastRead;

  /** {@code dates} is 0 for an open range; {@code lastPublishedDay} is -1 before the first. */
  StreamProgress(long dates, LongSupplier lastPublishedDay) {
    this(dates, lastPublishedDay, System::currentTimeMillis);
  }

  StreamProgress(long dates, LongSupplier lastPublishedDay, LongSupplier clock) {
    this.dates = dates;
    this.lastPublishedDay = lastPublishedDay;
    this.clock = clock;
  }

  /** A lag as its two largest units: 850ms, 42s, 3m 12s, 5h 7m, 12d 4h, 1y 325d. */
  static String lag(long millis) {
    if (millis < 1000) {
      return Math.max(millis, 0) + "ms";
    }
    long s = millis / 1000;
    long[] sizes = {365L * 86400, 86400, 3600, 60, 1};
    String[] units = {"y", "d", "h", "m", "s"};
    for (int i = 0; i < sizes.length; i++) {
      if (s >= sizes[i]) {
        String first = s / sizes[i] + units[i];
        long rest = i + 1 < sizes.length ? (s % sizes[i]) / sizes[i + 1] : 0;
        return rest > 0 ? first + " " + rest + units[i + 1] : first;
      }
    }
    return s + "s";
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
    Long watermark = s.watermarkMillis();
    String wm = watermark == null ? "" : "  watermark "
        + java.time.Instant.ofEpochMilli(watermark) + " (lag "
        + lag(clock.getAsLong() - watermark) + ")";
    return String.format(Locale.ROOT,
        "[%6.1f s] streaming  read %,d (%,d/s)%s  late %,d  quarantined %,d  published %,d%s%s%s",
        seconds, read, rate, wm, late, s.stage(Counters.QUARANTINED), published,
        dates > 0 ? "/" + String.format(Locale.ROOT, "%,d", dates) : "",
        rejected > 0 ? String.format(Locale.ROOT, "  rejected %,d", rejected) : "",
        day >= 0 ? " (through " + LocalDate.ofEpochDay(day) + ")" : "");
  }
}
