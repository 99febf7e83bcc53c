package dev.featurebeam.benchmarks;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A deterministic spine for the training-set benchmark: a CSV file with the header
 * {@code user_id,timestamp,label}, the same arguments always giving the same bytes.
 *
 * <pre>
 * java -cp ... dev.featurebeam.benchmarks.SpineGen --users=U --rows=N --out=spine.csv \
 *     [--seed=42] [--from=2025-01-31 --to=2025-04-30] [--events=events.csv]
 * </pre>
 *
 * <ul>
 *   <li><b>Entities</b>: ids of the population {@code ./featurebeam generate --users=U} draws from
 *       ({@code u} and the number 0 … U−1, zero-padded to at least 5 digits), uniformly; 5% of
 *       the fresh rows name ids beyond the population (U, U+1, …), which have no events.
 *   <li><b>Instants</b>, always {@code YYYY-MM-DDTHH:MM:SS.mmmZ}: uniform over [from 00:00, to+1
 *       00:00) UTC, the days of a backfill from..to (whose as-of instants are those days' ends);
 *       10% of the fresh rows exactly at a midnight from 00:00 to to+1 00:00. With {@code
 *       --events}, 20% are anchored on an event of that file in that range (its user, its time e)
 *       at T = e + d for d one of 0, 1 ms, 24 h, 24 h + 1 ms, 7 d, 7 d + 1 ms, 30 d, 30 d + 1 ms:
 *       the edges of every window of bench_spec.yaml, where an off-by-one-millisecond frame shows
 *       (so these instants reach up to 30 days past the range). The events are a uniform sample
 *       of the file's records with a user and a readable ts (quarantined or de-duplicated ones
 *       included: their instants are as good a test).
 *   <li><b>label</b>: 1 for about 20% of the rows, else 0.
 *   <li><b>Copies</b>: 3% of the rows repeat an earlier row exactly; FeatureBeam must answer each.
 * </ul>
 *
 * The rows are in random order, not sorted: the training set sorts them.
 */
public final class SpineGen {
  static final String HEADER = "user_id,timestamp,label";
  private static final DateTimeFormatter ISO_MS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final long H24 = BenchSpec.DAY_MS;
  static final long[] EDGE_OFFSETS = {0, 1, H24, H24 + 1, 7 * H24, 7 * H24 + 1, 30 * H24, 30 * H24 + 1};

  private SpineGen() {}

  public static void main(String[] args) throws IOException {
    BenchArgs a;
    int users;
    long rows;
    long seed;
    LocalDate[] range;
    try {
      a = BenchArgs.parse(args);
      users = Integer.parseInt(a.required("users"));
      rows = Long.parseLong(a.required("rows"));
      seed = Long.parseLong(a.get("seed", "42"));
      if (!a.options.containsKey("from")) {
        a.options.put("from", "2025-01-31");
      }
      if (!a.options.containsKey("to")) {
        a.options.put("to", "2025-04-30");
      }
      range = a.range();
      a.required("out");
      if (users < 1 || rows < 0) {
        throw new IllegalArgumentException("--users must be at least 1 and --rows at least 0");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("SpineGen: " + e.getMessage());
      System.err.println("usage: SpineGen --users=U --rows=N --out=SPINE.csv [--seed=42]"
          + " [--from=2025-01-31 --to=2025-04-30] [--events=EVENTS.csv]");
      System.exit(2);
      return;
    }
    String events = a.get("events", null);
    write(users, rows, seed, range[0], range[1], events == null ? null : Path.of(events),
        Path.of(a.required("out")), System.err);
  }

  /** An event the spine can anchor on: its user (stripped) and time. */
  record Anchor(String user, long ms) {}

  /** Writes the spine; returns the number of rows anchored on an event. */
  static long write(int users, long rows, long seed, LocalDate from, LocalDate to, Path events,
      Path out, PrintStream log) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    SplittableRandom sampling = r.split();
    long startMs = from.toEpochDay() * BenchSpec.DAY_MS;
    long endMs = (to.toEpochDay() + 1) * BenchSpec.DAY_MS;
    long days = to.toEpochDay() - from.toEpochDay() + 2; // the midnights from .. to + 1
    int width = Math.max(5, Integer.toString(users - 1).length());
    int absent = Math.max(1, users / 20);
    List<Anchor> anchors = events == null ? List.of()
        : sample(events, (int) Math.min(1_000_000, Math.max(1, rows / 5)), startMs, endMs, sampling);

    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    List<String> written = new ArrayList<>();
    long anchored = 0;
    long copies = 0;
    long noEvents = 0;
    long midnights = 0;
    try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8), 1 << 16)) {
      w.write(HEADER);
      w.write('\n');
      for (long i = 0; i < rows; i++) {
        String line;
        if (!written.isEmpty() && r.nextInt(100) < 3) {
          line = written.get(r.nextInt(written.size()));
          copies++;
        } else {
          String user;
          long ms;
          int kind = r.nextInt(100);
          if (!anchors.isEmpty() && kind < 20) {
            Anchor e = anchors.get(r.nextInt(anchors.size()));
            user = e.user();
            ms = e.ms() + EDGE_OFFSETS[r.nextInt(EDGE_OFFSETS.length)];
            anchored++;
          } else {
            if (r.nextInt(100) < 5) {
              user = "u" + pad(users + r.nextInt(absent), width);
              noEvents++;
            } else {
              user = "u" + pad(r.nextInt(users), width);
            }
            if (kind >= 20 && kind < 30) {
              ms = startMs + r.nextLong(days) * BenchSpec.DAY_MS;
              midnights++;
            } else {
              ms = startMs + r.nextLong(endMs - startMs);
            }
          }
          line = csv(user) + "," + ISO_MS.format(java.time.Instant.ofEpochMilli(ms)) + ","
              + (r.nextInt(100) < 20 ? 1 : 0);
          written.add(line);
        }
        w.write(line);
        w.write('\n');
      }
    }
    log.printf(Locale.ROOT, "spine: %,d rows to %s: %,d copies of an earlier row, %,d anchored on"
            + " one of %,d sampled events, %,d at a midnight, %,d for ids without events%n",
        rows, out, copies, anchored, anchors.size(), midnights, noEvents);
    return anchored;
  }

  /**
   * A uniform sample (reservoir) of up to {@code k} records with a user_id and a readable ts in
   * [startMs, endMs).
   */
  static List<Anchor> sample(Path events, int k, long startMs, long endMs, SplittableRandom r)
      throws IOException {
    List<Anchor> pool = new ArrayList<>(k);
    try (BufferedReader in = Files.newBufferedReader(events, StandardCharsets.UTF_8)) {
      CsvLines lines = new CsvLines(in);
      String head = lines.next();
      if (head == null) {
        return pool;
      }
      List<String> header = CsvLines.header(head);
      int user = header.indexOf("user_id");
      int ts = header.indexOf("ts");
      if (user < 0 || ts < 0) {
        throw new IllegalArgumentException(events + " has no user_id or ts column");
      }
      List<String> values = new ArrayList<>();
      long seen = 0;
      for (String text = lines.next(); text != null; text = lines.next()) {
        if (!CsvLines.split(text, values) || values.size() != header.size()) {
          continue;
        }
        String u = values.get(user).strip();
        long ms = Values.parseTimestamp(values.get(ts).strip());
        if (u.isEmpty() || ms == Values.BAD || ms < startMs || ms >= endMs || u.contains("\"")) {
          continue;
        }
        seen++;
        if (pool.size() < k) {
          pool.add(new Anchor(u, ms));
        } else {
          long j = r.nextLong(seen);
          if (j < k) {
            pool.set((int) j, new Anchor(u, ms));
          }
        }
      }
    }
    return pool;
  }

  private static String csv(String s) {
    return s.indexOf(',') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0 ? '"' + s + '"' : s;
  }

  /** The generator's zero padding of ids (as EventGenerator.pad, which is not public). */
  static String pad(long v, int width) {
    String s = Long.toString(v);
    return s.length() >= width ? s : "0".repeat(width - s.length()) + s;
  }
}
