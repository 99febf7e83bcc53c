package dev.featurebeam.pipelines.generate;

import dev.featurebeam.pipelines.generate.GeneratedEvent.Kind;
import dev.featurebeam.pipelines.generate.GeneratedEvent.TimestampForm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A deterministic generator of raw user events (see {@link GeneratorConfig} for the options and
 * exactly how the fractions are counted).
 *
 * <p>The same config always gives the same records, hence byte-identical files: all randomness
 * comes from {@link SplittableRandom} seeded by the config, floating-point maths uses
 * {@link StrictMath}, and nothing reads the clock. Events are produced day by day in time order
 * and written as they are made, so memory stays flat whatever the number of events; duplicates
 * wait in a small queue until the few hundred lines after their original have been written.
 */
public final class EventGenerator {
  static final String[] CATEGORIES = {
    "books", "games", "home", "electronics", "fashion", "beauty",
    "grocery", "toys", "sports, outdoors", "music", "garden", "automotive"
  };
  /** Median price per category, in dollars; "sports, outdoors" also exercises CSV quoting. */
  private static final double[] MEDIAN_PRICE = {14, 35, 40, 120, 45, 22, 18, 25, 55, 12, 30, 60};
  /** Relative activity per UTC hour: quiet nights, an evening peak. */
  private static final double[] HOUR_WEIGHTS = {
    0.30, 0.20, 0.15, 0.15, 0.20, 0.30, 0.50, 0.80, 1.00, 1.10, 1.20, 1.20,
    1.30, 1.20, 1.10, 1.10, 1.20, 1.40, 1.60, 1.80, 1.90, 1.70, 1.20, 0.70
  };
  private static final long DAY_MS = 86_400_000L;
  /** A duplicate is written within this many lines after the original's. */
  private static final int MAX_DUPLICATE_DELAY = 500;
  private static final Pattern SHARD_FILE = Pattern.compile("out-[0-9]+-of-[0-9]+\\.(csv|jsonl|parquet)");

  private EventGenerator() {}

  /**
   * Writes the events to {@code out}: one file when {@code cfg.shards() == 1}, otherwise a folder
   * of {@code out-000-of-004.csv}-style files that take the records round-robin (earlier shard
   * files in that folder are removed first, so that a glob never picks up a stale one). The
   * format is {@code cfg.format()}, or else the one {@code out}'s extension names.
   */
  public static GenerationSummary write(GeneratorConfig cfg, Path out) throws IOException {
    EventFormat format = formatFor(cfg, out);
    List<Path> files = outputFiles(cfg, out);
    prepare(cfg, out);
    List<EventSinks.Sink> sinks = new ArrayList<>();
    Tally tally = new Tally();
    try {
      for (Path f : files) {
        sinks.add(EventSinks.open(format, f));
      }
      generate(cfg, e -> {
        try {
          sinks.get((int) (tally.records % sinks.size())).write(e);
        } catch (IOException ex) {
          throw new UncheckedIOException(ex);
        }
        tally.add(e);
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } finally {
      IOException first = null;
      for (EventSinks.Sink s : sinks) {
        try {
          s.close();
        } catch (IOException e) {
          first = first == null ? e : first;
        }
      }
      if (first != null) {
        throw first;
      }
    }
    return new GenerationSummary(files, format, tally.records, tally.events, tally.malformed(),
        tally.byKind, tally.exact, tally.conflicting);
  }

  /**
   * Sends the records to a Kafka topic, in the order {@link #write} writes them to a file: one
   * message per record, its value the JSON-lines rendering, its key the user_id (see
   * {@link KafkaEventSink}). Creates the topic when it does not exist; returns once every record
   * is acknowledged. Paced to {@code target.rate()} records per second when that is not 0.
   */
  public static KafkaSummary send(GeneratorConfig cfg, KafkaTarget target) throws IOException {
    return send(cfg, target, false);
  }

  /**
   * As {@link #send(GeneratorConfig, KafkaTarget)}; with {@code liveTimestamps} each record's ts is
   * the wall-clock time of its send ({@link GeneratedEvent#at}), so the topic is a live stream.
   */
  public static KafkaSummary send(GeneratorConfig cfg, KafkaTarget target, boolean liveTimestamps)
      throws IOException {
    if (cfg.shards() != 1) {
      throw new IllegalArgumentException("--shards applies to files; a Kafka topic has --partitions");
    }
    if (cfg.format() != null && cfg.format() != EventFormat.JSONL) {
      throw new IllegalArgumentException("a Kafka topic gets JSON lines; --format="
          + cfg.format().extension() + " applies to files only");
    }
    Tally tally = new Tally();
    try (KafkaEventSink sink = KafkaEventSink.open(target, liveTimestamps)) {
      try {
        generate(cfg, e -> {
          try {
            sink.write(e);
          } catch (IOException ex) {
            throw new UncheckedIOException(ex);
          }
          tally.add(e);
        });
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      sink.flush();
      return new KafkaSummary(target, sink.partitions(), tally.records, tally.events,
          tally.malformed(), tally.exact, tally.conflicting, sink.seconds());
    }
  }

  /** Counts the records as they are written, for the summary. */
  private static final class Tally {
    long records;
    long events;
    long exact;
    long conflicting;
    final Map<Malformation, Long> byKind = new EnumMap<>(Malformation.class);

    void add(GeneratedEvent e) {
      records++;
      switch (e.kind()) {
        case ORIGINAL:
          events++;
          break;
        case EXACT_DUPLICATE:
          exact++;
          break;
        default:
          conflicting++;
      }
      if (e.isMalformed()) {
        byKind.merge(e.malformation(), 1L, Long::sum);
      }
    }

    long malformed() {
      return byKind.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** The files {@link #write} writes for this config and output path. */
  public static List<Path> outputFiles(GeneratorConfig cfg, Path out) {
    EventFormat format = formatFor(cfg, out);
    if (cfg.shards() == 1) {
      return List.of(out);
    }
    int width = Math.max(3, Integer.toString(cfg.shards()).length());
    List<Path> files = new ArrayList<>();
    for (int s = 0; s < cfg.shards(); s++) {
      files.add(out.resolve("out-" + pad(s, width) + "-of-" + pad(cfg.shards(), width)
          + "." + format.extension()));
    }
    return files;
  }

  private static EventFormat formatFor(GeneratorConfig cfg, Path out) {
    if (cfg.format() != null) {
      return cfg.format();
    }
    EventFormat f = EventFormat.fromFileName(out);
    if (f == null) {
      throw new IllegalArgumentException("cannot tell the format of '" + out
          + "': name it .csv, .jsonl or .parquet, or set the format");
    }
    return f;
  }

  private static void prepare(GeneratorConfig cfg, Path out) throws IOException {
    if (cfg.shards() == 1) {
      if (Files.isDirectory(out)) {
        throw new IOException(out + " is a folder; with one shard the output is a file");
      }
      Path parent = out.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      return;
    }
    Files.createDirectories(out);
    try (DirectoryStream<Path> old = Files.newDirectoryStream(out)) {
      for (Path p : old) {
        if (SHARD_FILE.matcher(p.getFileName().toString()).matches()) {
          Files.delete(p);
        }
      }
    }
  }

  /**
   * Hands every record to {@code sink} in file order, without writing anything: originals in time
   * order, each duplicate a few lines after the event it repeats.
   */
  public static void generate(GeneratorConfig cfg, Consumer<GeneratedEvent> sink) {
    // Separate streams, so that changing a fraction leaves the events themselves (times, users,
    // contents) as they were.
    SplittableRandom root = new SplittableRandom(cfg.seed());
    SplittableRandom base = root.split(); // times and event contents
    SplittableRandom bad = root.split(); // which events are malformed, and how
    SplittableRandom dup = root.split(); // which events are repeated, how, and when
    Users users = new Users(cfg.users(), cfg.skew(), root.split());
    int idWidth = Math.max(5, Integer.toString(cfg.users() - 1).length());

    long n = cfg.events();
    long malformedLeft = cfg.malformedCount();
    long duplicatesLeft = cfg.duplicateCount();
    long exactLeft = cfg.exactDuplicateCount();
    PriorityQueue<Pending> pending = new PriorityQueue<>();
    long seq = 0;
    long index = 0;
    long[] perDay = eventsPerDay(cfg);
    for (int d = 0; d < cfg.days(); d++) {
      long dayStart = cfg.startDate().plusDays(d).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
      long m = perDay[d];
      double x = 0;
      for (long k = 0; k < m; k++) {
        // The next of m-k sorted uniforms on [x, 1): times come out in order with no sorting.
        x = 1 - (1 - x) * StrictMath.pow(1 - base.nextDouble(), 1.0 / (m - k));
        long millis = dayStart + Math.min(DAY_MS - 1, (long) (diurnal(x) * DAY_MS));
        GeneratedEvent e = newEvent(index, millis, users, idWidth, base);

        // Selection sampling: exactly malformedLeft of the remaining n-index events get picked.
        long remaining = n - index;
        if (bad.nextLong(remaining) < malformedLeft) {
          e = malform(e, bad);
          malformedLeft--;
        } else if (dup.nextLong(remaining - malformedLeft) < duplicatesLeft) {
          // The same among the remaining well-formed events, for the duplicates.
          boolean exact = dup.nextLong(duplicatesLeft) < exactLeft;
          duplicatesLeft--;
          GeneratedEvent copy = exact ? withKind(e, Kind.EXACT_DUPLICATE) : conflicting(e, dup);
          exactLeft -= exact ? 1 : 0;
          pending.add(new Pending(index + 1 + dup.nextInt(MAX_DUPLICATE_DELAY), seq++, copy));
        }
        sink.accept(e);
        index++;
        while (!pending.isEmpty() && pending.peek().due <= index) {
          sink.accept(pending.poll().event);
        }
      }
    }
    while (!pending.isEmpty()) {
      sink.accept(pending.poll().event);
    }
  }

  /** A duplicate waiting for its line; ordered by due line, then by creation. */
  private record Pending(long due, long seq, GeneratedEvent event) implements Comparable<Pending> {
    @Override
    public int compareTo(Pending o) {
      return due != o.due ? Long.compare(due, o.due) : Long.compare(seq, o.seq);
    }
  }

  /** Events per day, weekends 20% busier; integer weights so the days add up to exactly n. */
  static long[] eventsPerDay(GeneratorConfig cfg) {
    long[] weights = new long[cfg.days()];
    long total = 0;
    for (int d = 0; d < cfg.days(); d++) {
      DayOfWeek dow = cfg.startDate().plusDays(d).getDayOfWeek();
      weights[d] = dow == DayOfWeek.SATURDAY || dow == DayOfWeek.SUNDAY ? 6 : 5;
      total += weights[d];
    }
    long[] out = new long[cfg.days()];
    long cum = 0;
    long done = 0;
    for (int d = 0; d < cfg.days(); d++) {
      cum += weights[d];
      long upTo = Math.multiplyExact(cfg.events(), cum) / total;
      out[d] = upTo - done;
      done = upTo;
    }
    return out;
  }

  private static final double[] HOUR_CDF = hourCdf();

  private static double[] hourCdf() {
    double[] c = new double[25];
    for (int h = 0; h < 24; h++) {
      c[h + 1] = c[h] + HOUR_WEIGHTS[h];
    }
    for (int h = 0; h <= 24; h++) {
      c[h] /= c[24];
    }
    return c;
  }

  /** Maps a uniform x in [0, 1) to a fraction of the day, monotonically, per HOUR_WEIGHTS. */
  static double diurnal(double x) {
    int h = 0;
    while (h < 23 && HOUR_CDF[h + 1] <= x) {
      h++;
    }
    double frac = (x - HOUR_CDF[h]) / (HOUR_CDF[h + 1] - HOUR_CDF[h]);
    return (h + Math.min(1.0, Math.max(0.0, frac))) / 24;
  }

  private static GeneratedEvent newEvent(
      long index, long millis, Users users, int idWidth, SplittableRandom r) {
    int user = users.sample(r);
    int t = r.nextInt(100);
    String type = t < 15 ? "purchase" : t < 70 ? "view" : t < 90 ? "cart" : t < 95 ? "support_ticket" : "refund";
    // Most users stick to a favourite category, so distinct counts vary between users.
    int cat = r.nextInt(100) < 60 ? users.favourite[user] : r.nextInt(CATEGORIES.length);
    boolean priced = !type.equals("view") && !type.equals("support_ticket");
    String amount = priced ? centsText(price(cat, r)) : null;
    boolean settled = type.equals("purchase") || type.equals("refund");
    String status = settled ? (r.nextInt(10) == 0 ? "failed" : "success") : null;
    int f = r.nextInt(100);
    TimestampForm form = f < 85 ? TimestampForm.UTC : f < 90 ? TimestampForm.PLUS_0530
        : f < 95 ? TimestampForm.MINUS_0800 : TimestampForm.EPOCH_MILLIS;
    boolean amountAsString = r.nextInt(10) == 0;
    return new GeneratedEvent("e" + pad(index, 10), "u" + pad(user, idWidth), type, amount, status,
        CATEGORIES[cat], form.render(millis), millis, form, amountAsString, null, Kind.ORIGINAL);
  }

  /** Log-normal around the category's median price, in cents, at least one cent. */
  private static long price(int cat, SplittableRandom r) {
    double gauss = StrictMath.sqrt(-2 * StrictMath.log(1 - r.nextDouble()))
        * StrictMath.cos(2 * StrictMath.PI * r.nextDouble());
    return Math.max(1, Math.round(StrictMath.exp(StrictMath.log(MEDIAN_PRICE[cat] * 100) + 0.8 * gauss)));
  }

  private static GeneratedEvent malform(GeneratedEvent e, SplittableRandom r) {
    Malformation kind = Malformation.values()[r.nextInt(Malformation.values().length)];
    String userId = e.userId();
    String amount = e.amount();
    String ts = e.ts();
    switch (kind) {
      case MISSING_USER_ID:
        userId = null;
        break;
      case AMOUNT_NOT_A_NUMBER:
        amount = "abc";
        break;
      case NEGATIVE_AMOUNT:
        amount = "-" + (amount != null ? amount : centsText(1 + r.nextLong(5000)));
        break;
      case BAD_TIMESTAMP:
        ts = "2025-13-45T99:00";
        break;
      case NAN_AMOUNT:
        amount = "NaN";
        break;
      default: // MISSING_COLUMN
        ts = null;
    }
    return new GeneratedEvent(e.eventId(), userId, e.eventType(), amount, e.status(), e.category(),
        ts, e.eventTimeMillis(), e.tsForm(), e.amountAsJsonString(), kind, Kind.ORIGINAL);
  }

  private static GeneratedEvent withKind(GeneratedEvent e, Kind kind) {
    return new GeneratedEvent(e.eventId(), e.userId(), e.eventType(), e.amount(), e.status(),
        e.category(), e.ts(), e.eventTimeMillis(), e.tsForm(), e.amountAsJsonString(),
        e.malformation(), kind);
  }

  /**
   * Same event_id, different content: another amount, or a ts up to 10 minutes later but still on
   * the same UTC day (so that a date range never splits an event from its copies), or, for an
   * event with no amount in the last second of its day, another category.
   */
  private static GeneratedEvent conflicting(GeneratedEvent e, SplittableRandom r) {
    String amount = e.amount();
    long millis = e.eventTimeMillis();
    String category = e.category();
    long room = Math.floorDiv(millis, DAY_MS) * DAY_MS + DAY_MS - 1 - millis;
    if (amount != null && (room < 1000 || r.nextBoolean())) {
      long cents = Math.round(Double.parseDouble(amount) * 100);
      cents = cents > 1 && r.nextBoolean() ? 1 + r.nextLong(cents - 1) : cents + 1 + r.nextLong(cents);
      amount = centsText(cents);
    } else if (room >= 1000) {
      millis += 1000 + r.nextLong(Math.min(600_000, room) - 1000 + 1);
    } else {
      int i = List.of(CATEGORIES).indexOf(category);
      category = CATEGORIES[(i + 1 + r.nextInt(CATEGORIES.length - 1)) % CATEGORIES.length];
    }
    return new GeneratedEvent(e.eventId(), e.userId(), e.eventType(), amount, e.status(), category,
        e.tsForm().render(millis), millis, e.tsForm(), e.amountAsJsonString(), null,
        Kind.CONFLICTING_DUPLICATE);
  }

  static String centsText(long cents) {
    long frac = cents % 100;
    return (cents / 100) + (frac < 10 ? ".0" : ".") + frac;
  }

  static String pad(long v, int width) {
    String s = Long.toString(v);
    return s.length() >= width ? s : "0".repeat(width - s.length()) + s;
  }

  /** Zipf-like activity over users in a shuffled order, and each user's favourite category. */
  static final class Users {
    private final int[] byRank;
    private final double[] cdf;
    final int[] favourite;

    Users(int n, double skew, SplittableRandom r) {
      cdf = new double[n];
      double sum = 0;
      for (int i = 0; i < n; i++) {
        sum += 1 / StrictMath.pow(i + 1, skew);
        cdf[i] = sum;
      }
      // Shuffle who is busiest, so that u00000 is not always the heaviest user.
      byRank = new int[n];
      for (int i = 0; i < n; i++) {
        byRank[i] = i;
      }
      for (int i = n - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = byRank[i];
        byRank[i] = byRank[j];
        byRank[j] = t;
      }
      favourite = new int[n];
      for (int i = 0; i < n; i++) {
        favourite[i] = r.nextInt(CATEGORIES.length);
      }
    }

    int sample(SplittableRandom r) {
      double x = r.nextDouble() * cdf[cdf.length - 1];
      int lo = 0;
      int hi = cdf.length - 1;
      while (lo < hi) { // first rank whose cumulative weight exceeds x
        int mid = (lo + hi) >>> 1;
        if (cdf[mid] > x) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      return byRank[lo];
    }
  }
}
