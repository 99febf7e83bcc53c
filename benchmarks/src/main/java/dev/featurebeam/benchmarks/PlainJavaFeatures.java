package dev.featurebeam.benchmarks;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The benchmark's "hand-written loop": benchmarks/bench_spec.yaml computed by one thread with hash
 * maps and arrays, with FeatureBeam's semantics (docs/reference.md): validation with quarantine reasons,
 * de-duplication by event_id (earliest event time, then smallest canonical serialization), and
 * per (user, as-of date) rows for every date of the range on which the user has an event in the
 * 30 days before T = date + 1 day, 00:00 UTC.
 *
 * <pre>
 * java -cp ... dev.featurebeam.benchmarks.PlainJavaFeatures --source=events.csv --out=rows.csv \
 *     --from=2025-01-31 --to=2025-04-30
 * </pre>
 *
 * <p>How: one pass over the file validates and de-duplicates into parallel arrays (strings
 * interned to ints); events are grouped per user (counting sort), each user's events are folded
 * into day buckets, and prefix sums over the buckets (sums exact, as 128-bit fixed point, see
 * {@link Fixed128}) give every window as a difference of two prefixes. Rows come out ordered by
 * as_of_date, then user_id, as CSV with {@link BenchSpec#COLUMNS}. Counts per stage go to
 * standard error in the words of FeatureBeam's report.
 */
public final class PlainJavaFeatures {
  private static final int NONE = -1;

  // Interned strings: users apart, the other string fields share one dictionary.
  private final HashMap<String, Integer> userIds = new HashMap<>();
  private final ArrayList<String> userNames = new ArrayList<>();
  private final HashMap<String, Integer> words = new HashMap<>();
  private final ArrayList<String> wordList = new ArrayList<>();

  // One slot per distinct event_id: the copy kept so far.
  private final HashMap<String, Integer> slotOfId;
  private int slots;
  private String[] eventId = new String[1 << 16];
  private int[] user = new int[1 << 16];
  private int[] type = new int[1 << 16];
  private int[] status = new int[1 << 16];
  private int[] category = new int[1 << 16];
  private double[] amount = new double[1 << 16]; // NaN = null
  private long[] ms = new long[1 << 16];

  /** Keys seen more than once: copies and distinct serializations, for the duplicate counts. */
  private final HashMap<String, Set<String>> serializations = new HashMap<>();
  private final HashMap<String, long[]> copies = new HashMap<>();

  // Counts, named as in FeatureBeam's run report.
  long read;
  long quarantined;
  final TreeMap<String, Long> reasons = new TreeMap<>();
  long duplicatesExact;
  long duplicatesConflicting;
  long outOfRange;
  long valid;
  long rows;

  private PlainJavaFeatures(long expectedRecords) {
    slotOfId = new HashMap<>((int) Math.min(1 << 30, Math.max(16, expectedRecords * 4 / 3 + 1)));
  }

  public static void main(String[] args) throws IOException {
    BenchArgs a;
    LocalDate[] range;
    try {
      a = BenchArgs.parse(args);
      range = a.range();
      a.required("source");
      a.required("out");
    } catch (IllegalArgumentException e) {
      System.err.println("PlainJavaFeatures: " + e.getMessage());
      System.err.println("usage: PlainJavaFeatures --source=EVENTS.csv --out=ROWS.csv --from=YYYY-MM-DD --to=YYYY-MM-DD");
      System.exit(2);
      return;
    }
    try {
      run(Path.of(a.required("source")), Path.of(a.required("out")), range[0], range[1], System.err);
    } catch (IllegalArgumentException e) {
      System.err.println("PlainJavaFeatures: " + e.getMessage());
      System.exit(2);
    }
  }

  /** Computes the rows and writes them to {@code out}; returns the counts. */
  static PlainJavaFeatures run(Path source, Path out, LocalDate from, LocalDate to, PrintStream log)
      throws IOException {
    long t0 = System.nanoTime();
    PlainJavaFeatures p = new PlainJavaFeatures(Files.size(source) / 60);
    long endMs = (to.toEpochDay() + 1) * BenchSpec.DAY_MS;
    p.readAndDeduplicate(source);
    long t1 = System.nanoTime();
    Buckets b = p.buckets(endMs);
    long t2 = System.nanoTime();
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (Writer w = new BufferedWriter(
        new OutputStreamWriter(Files.newOutputStream(out), StandardCharsets.UTF_8), 1 << 16)) {
      p.writeRows(b, from.toEpochDay(), to.toEpochDay(), w);
    }
    long t3 = System.nanoTime();
    log.printf(java.util.Locale.ROOT,
        "plain-java: read %,d, valid %,d, duplicates %,d (%,d exact, %,d conflicting), quarantined %,d %s,"
            + " out of range %,d; %,d rows to %s%n",
        p.read, p.valid, p.duplicatesExact + p.duplicatesConflicting, p.duplicatesExact,
        p.duplicatesConflicting, p.quarantined, p.reasons, p.outOfRange, p.rows, out);
    log.printf(java.util.Locale.ROOT,
        "plain-java: %.2f s = read+validate+dedup %.2f s, buckets %.2f s, windows+write %.2f s%n",
        (t3 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    return p;
  }

  /** A valid, de-duplicated event as the features read it; amount NaN when it has none. */
  record CleanEvent(String user, boolean purchaseSuccess, double amount, long ms) {}

  /**
   * The file's valid events after de-duplication, read with this loop's own validator (for the
   * training-set test's plain scan): every kept copy, in no particular order.
   */
  static List<CleanEvent> cleanEvents(Path source) throws IOException {
    PlainJavaFeatures p = new PlainJavaFeatures(Files.size(source) / 60);
    p.readAndDeduplicate(source);
    List<CleanEvent> out = new ArrayList<>(p.slots);
    for (int s = 0; s < p.slots; s++) {
      boolean ps = BenchSpec.PURCHASE.equals(p.wordOf(p.type[s]))
          && BenchSpec.SUCCESS.equals(p.wordOf(p.status[s]));
      out.add(new CleanEvent(p.userNames.get(p.user[s]), ps, p.amount[s], p.ms[s]));
    }
    return out;
  }

  // ---------------------------------------------------------------- read, validate, de-duplicate

  private void readAndDeduplicate(Path source) throws IOException {
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(Files.newInputStream(source), decoder), 1 << 16)) {
      CsvLines lines = new CsvLines(in);
      String headerText = lines.next();
      if (headerText == null) {
        return; // an empty file has no records
      }
      List<String> header = CsvLines.header(headerText);
      int[] col = new int[BenchSpec.FIELDS.size()];
      for (int f = 0; f < col.length; f++) {
        col[f] = header.lastIndexOf(BenchSpec.FIELDS.get(f));
      }
      for (String required : List.of("event_id", "user_id", "ts")) {
        if (col[BenchSpec.FIELDS.indexOf(required)] < 0) {
          throw new IllegalArgumentException(
              "the CSV header of " + source + " has no column '" + required + "'");
        }
      }
      List<String> values = new ArrayList<>(header.size() + 1);
      for (String text = lines.next(); text != null; text = lines.next()) {
        read++;
        if (!CsvLines.split(text, values) || values.size() != header.size()) {
          quarantine("MALFORMED");
          continue;
        }
        accept(values, col);
      }
    }
    for (Map.Entry<String, long[]> e : copies.entrySet()) {
      long n = e.getValue()[0];
      int distinct = serializations.get(e.getKey()).size();
      duplicatesExact += n - distinct;
      duplicatesConflicting += distinct - 1;
    }
  }

  private void quarantine(String reason) {
    quarantined++;
    reasons.merge(reason, 1L, Long::sum);
  }

  private static String field(List<String> values, int col) {
    if (col < 0) {
      return null;
    }
    String s = values.get(col).strip();
    return s.isEmpty() ? null : s;
  }

  /** Validates one split record (fields checked in spec order) and de-duplicates it. */
  private void accept(List<String> values, int[] col) {
    String id = field(values, col[0]);
    if (id == null) {
      quarantine("MISSING:event_id");
      return;
    }
    String uid = field(values, col[1]);
    if (uid == null) {
      quarantine("MISSING:user_id");
      return;
    }
    String eventType = field(values, col[2]);
    String amountText = field(values, col[3]);
    double amt = Double.NaN;
    if (amountText != null) {
      amt = Values.parseDouble(amountText);
      if (Double.isNaN(amt)) {
        quarantine("BAD_TYPE:amount");
        return;
      }
      if (amt < 0) {
        quarantine("OUT_OF_RANGE:amount");
        return;
      }
    }
    String st = field(values, col[4]);
    String cat = field(values, col[5]);
    String tsText = field(values, col[6]);
    if (tsText == null) {
      quarantine("MISSING:ts");
      return;
    }
    long t = Values.parseTimestamp(tsText);
    if (t == Values.BAD || t < BenchSpec.MIN_EVENT_MILLIS || t > BenchSpec.MAX_EVENT_MILLIS) {
      quarantine("BAD_TIMESTAMP:ts");
      return;
    }

    int u = userIds.computeIfAbsent(uid, k -> {
      userNames.add(k);
      return userNames.size() - 1;
    });
    int ty = word(eventType);
    int stc = word(st);
    int ca = word(cat);
    Integer existing = slotOfId.putIfAbsent(id, slots);
    if (existing == null) {
      ensureCapacity(slots + 1);
      set(slots++, id, u, ty, stc, ca, amt, t);
      return;
    }
    int s = existing;
    String candidate = canonical(id, u, ty, amt, stc, ca, t);
    long[] n = copies.get(id);
    if (n == null) {
      n = new long[] {1};
      copies.put(id, n);
      Set<String> seen = new HashSet<>(4);
      seen.add(canonical(s));
      serializations.put(id, seen);
    }
    n[0]++;
    serializations.get(id).add(candidate);
    if (t < ms[s] || (t == ms[s] && candidate.compareTo(canonical(s)) < 0)) {
      set(s, id, u, ty, stc, ca, amt, t);
    }
  }

  private int word(String s) {
    if (s == null) {
      return NONE;
    }
    Integer w = words.get(s);
    if (w == null) {
      w = wordList.size();
      wordList.add(s);
      words.put(s, w);
    }
    return w;
  }

  private String wordOf(int w) {
    return w == NONE ? null : wordList.get(w);
  }

  private void set(int s, String id, int u, int ty, int st, int ca, double amt, long t) {
    eventId[s] = id;
    user[s] = u;
    type[s] = ty;
    status[s] = st;
    category[s] = ca;
    amount[s] = amt;
    ms[s] = t;
  }

  private void ensureCapacity(int n) {
    if (n <= ms.length) {
      return;
    }
    int c = Math.max(n, ms.length * 2);
    eventId = Arrays.copyOf(eventId, c);
    user = Arrays.copyOf(user, c);
    type = Arrays.copyOf(type, c);
    status = Arrays.copyOf(status, c);
    category = Arrays.copyOf(category, c);
    amount = Arrays.copyOf(amount, c);
    ms = Arrays.copyOf(ms, c);
  }

  private String canonical(int s) {
    return canonical(eventId[s], user[s], type[s], amount[s], status[s], category[s], ms[s]);
  }

  /**
   * FeatureBeam's canonical serialization of a validated event: the fields in spec order, strings
   * as JSON strings, the amount as Double.toString, the timestamp as Instant.toString.
   */
  private String canonical(String id, int u, int ty, double amt, int st, int ca, long t) {
    StringBuilder sb = new StringBuilder(160).append("{\"event_id\":");
    Values.appendJsonString(sb, id);
    sb.append(",\"user_id\":");
    Values.appendJsonString(sb, userNames.get(u));
    sb.append(",\"event_type\":");
    appendNullable(sb, wordOf(ty));
    sb.append(",\"amount\":").append(Double.isNaN(amt) ? "null" : Double.toString(amt));
    sb.append(",\"status\":");
    appendNullable(sb, wordOf(st));
    sb.append(",\"category\":");
    appendNullable(sb, wordOf(ca));
    sb.append(",\"ts\":\"").append(Instant.ofEpochMilli(t)).append("\"}");
    return sb.toString();
  }

  private static void appendNullable(StringBuilder sb, String s) {
    if (s == null) {
      sb.append("null");
    } else {
      Values.appendJsonString(sb, s);
    }
  }

  // ---------------------------------------------------------------- day buckets per user

  /**
   * Day buckets per user, users in user_id order: user r owns buckets {@code first[r] ..
   * first[r+1]-1}, in day order. The prefix arrays hold sums over all buckets before an index.
   */
  static final class Buckets {
    String[] userCsv; // user ids in rank order, quoted for CSV where needed
    int[] first;
    long[] day;
    int[] all;
    long[] lastMs;
    long[] preAll;
    long[] prePs;
    long[] preAmt;
    long[] preSumHi;
    long[] preSumLo;
  }

  private Buckets buckets(long endMs) {
    int users = userNames.size();
    // Users in user_id order.
    Integer[] order = new Integer[users];
    for (int i = 0; i < users; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> userNames.get(x).compareTo(userNames.get(y)));
    int[] rank = new int[users];
    for (int r = 0; r < users; r++) {
      rank[order[r]] = r;
    }
    int purchase = words.getOrDefault(BenchSpec.PURCHASE, -2);
    int success = words.getOrDefault(BenchSpec.SUCCESS, -2);

    // Counting sort of the kept events by user rank; events at or after the end are out of range.
    int[] start = new int[users + 1];
    for (int s = 0; s < slots; s++) {
      if (ms[s] < endMs) {
        start[rank[user[s]] + 1]++;
      } else {
        outOfRange++;
      }
    }
    for (int r = 0; r < users; r++) {
      start[r + 1] += start[r];
    }
    valid = start[users];
    int[] byUser = new int[(int) valid];
    int[] fill = Arrays.copyOf(start, users);
    for (int s = 0; s < slots; s++) {
      if (ms[s] < endMs) {
        byUser[fill[rank[user[s]]]++] = s;
      }
    }

    Buckets b = new Buckets();
    b.userCsv = new String[users];
    b.first = new int[users + 1];
    int cap = Math.max(16, (int) Math.min(Integer.MAX_VALUE - 8, valid / 2 + 16));
    b.day = new long[cap];
    b.all = new int[cap];
    b.lastMs = new long[cap];
    int[] ps = new int[cap];
    int[] amt = new int[cap];
    long[] sumHi = new long[cap];
    long[] sumLo = new long[cap];
    long[] keys = new long[16];
    int nb = 0;
    for (int r = 0; r < users; r++) {
      b.userCsv[r] = csvField(userNames.get(order[r]));
      b.first[r] = nb;
      int from = start[r];
      int n = start[r + 1] - from;
      if (n == 0) {
        continue;
      }
      // Sort the user's events by day: keys of (day - minDay) << 31 | position.
      long minDay = Long.MAX_VALUE;
      long maxDay = Long.MIN_VALUE;
      for (int i = from; i < from + n; i++) {
        long d = Math.floorDiv(ms[byUser[i]], BenchSpec.DAY_MS);
        minDay = Math.min(minDay, d);
        maxDay = Math.max(maxDay, d);
      }
      if (maxDay - minDay >= (1L << 32)) {
        throw new IllegalStateException("one user's events span more than 2^32 days");
      }
      if (keys.length < n) {
        keys = new long[Math.max(n, keys.length * 2)];
      }
      for (int i = 0; i < n; i++) {
        keys[i] = ((Math.floorDiv(ms[byUser[from + i]], BenchSpec.DAY_MS) - minDay) << 31) | i;
      }
      Arrays.sort(keys, 0, n);
      long current = Long.MIN_VALUE;
      for (int i = 0; i < n; i++) {
        int s = byUser[from + (int) (keys[i] & 0x7fffffffL)];
        long d = minDay + (keys[i] >>> 31);
        if (d != current) {
          if (nb == b.day.length) {
            int c = (int) Math.min(Integer.MAX_VALUE - 8, (long) nb * 2);
            b.day = Arrays.copyOf(b.day, c);
            b.all = Arrays.copyOf(b.all, c);
            b.lastMs = Arrays.copyOf(b.lastMs, c);
            ps = Arrays.copyOf(ps, c);
            amt = Arrays.copyOf(amt, c);
            sumHi = Arrays.copyOf(sumHi, c);
            sumLo = Arrays.copyOf(sumLo, c);
          }
          current = d;
          b.day[nb] = d;
          b.lastMs[nb] = Long.MIN_VALUE;
          nb++;
        }
        int k = nb - 1;
        b.all[k]++;
        b.lastMs[k] = Math.max(b.lastMs[k], ms[s]);
        if (type[s] == purchase && status[s] == success) {
          ps[k]++;
          double a = amount[s];
          if (!Double.isNaN(a)) {
            amt[k]++;
            if (!Fixed128.fits(a)) {
              throw new IllegalStateException("amount " + a + " is too large for the exact sum");
            }
            long hi = Fixed128.hi(a);
            long lo = Fixed128.lo(a);
            sumHi[k] = Fixed128.addHi(sumHi[k], sumLo[k], hi, lo);
            sumLo[k] = Fixed128.addLo(sumLo[k], lo);
          }
        }
      }
    }
    b.first[users] = nb;
    b.preAll = new long[nb + 1];
    b.prePs = new long[nb + 1];
    b.preAmt = new long[nb + 1];
    b.preSumHi = new long[nb + 1];
    b.preSumLo = new long[nb + 1];
    for (int k = 0; k < nb; k++) {
      b.preAll[k + 1] = b.preAll[k] + b.all[k];
      b.prePs[k + 1] = b.prePs[k] + ps[k];
      b.preAmt[k + 1] = b.preAmt[k] + amt[k];
      b.preSumHi[k + 1] = Fixed128.addHi(b.preSumHi[k], b.preSumLo[k], sumHi[k], sumLo[k]);
      b.preSumLo[k + 1] = Fixed128.addLo(b.preSumLo[k], sumLo[k]);
    }
    return b;
  }

  // ---------------------------------------------------------------- windows and rows

  private void writeRows(Buckets b, long fromDay, long toDay, Writer w) throws IOException {
    w.write(BenchSpec.header());
    w.write('\n');
    int users = b.userCsv.length;
    // Per user: the first bucket after the as-of day (end), and the first bucket inside the 7-day
    // and the 30-day window; all three only move forward as the date advances.
    int[] end = Arrays.copyOf(b.first, users);
    int[] in7 = Arrays.copyOf(b.first, users);
    int[] in30 = Arrays.copyOf(b.first, users);
    StringBuilder sb = new StringBuilder(128);
    for (long d = fromDay; d <= toDay; d++) {
      String date = LocalDate.ofEpochDay(d).toString();
      long asOf = (d + 1) * BenchSpec.DAY_MS;
      for (int r = 0; r < users; r++) {
        int last = b.first[r + 1];
        int e = end[r];
        while (e < last && b.day[e] <= d) {
          e++;
        }
        end[r] = e;
        int s30 = in30[r];
        while (s30 < e && b.day[s30] <= d - BenchSpec.WINDOW_30D) {
          s30++;
        }
        in30[r] = s30;
        if (b.preAll[e] - b.preAll[s30] == 0) {
          continue; // no event in the presence window: no row
        }
        int s7 = in7[r];
        while (s7 < e && b.day[s7] <= d - BenchSpec.WINDOW_7D) {
          s7++;
        }
        in7[r] = s7;
        long purchases7 = b.prePs[e] - b.prePs[s7];
        long amounts = b.preAmt[e] - b.preAmt[s30];
        long events24 = b.day[e - 1] == d ? b.all[e - 1] : 0;
        long total = b.preAll[e] - b.preAll[b.first[r]];
        long daysSince = Math.floorDiv(asOf - b.lastMs[e - 1], BenchSpec.DAY_MS);

        sb.setLength(0);
        sb.append(b.userCsv[r]).append(',').append(date).append(',').append(purchases7).append(',');
        if (amounts > 0) {
          long hi = Fixed128.subHi(b.preSumHi[e], b.preSumLo[e], b.preSumHi[s30], b.preSumLo[s30]);
          long lo = Fixed128.subLo(b.preSumLo[e], b.preSumLo[s30]);
          sb.append(Fixed128.toDouble(hi, lo));
        }
        sb.append(',').append(events24).append(',').append(events24 > 0).append(',').append(total)
            .append(',').append(daysSince).append('\n');
        w.append(sb);
        rows++;
      }
    }
  }

  private static String csvField(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ',' || c == '"' || c == '\n' || c == '\r') {
        return '"' + s.replace("\"", "\"\"") + '"';
      }
    }
    return s;
  }
}
