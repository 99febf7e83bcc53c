package dev.featurebeam.pipelines.generate;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.pipelines.generate.GeneratedEvent.Kind;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.ValueParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventGeneratorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Small, but with enough malformed records and duplicates to count. */
  private static final GeneratorConfig SMALL =
      GeneratorConfig.builder().events(20_000).users(300).days(10).startDate(LocalDate.of(2025, 3, 1))
          .duplicateFraction(0.02).malformedFraction(0.03).build();

  @TempDir Path dir;

  /** One record read back from any format; null = empty or absent. */
  record Row(String eventId, String userId, String eventType, String amount, String status,
      String category, String ts) {}

  @Test
  void sameSeedGivesIdenticalBytesInEveryFormat() throws IOException {
    for (String name : List.of("a.csv", "a.jsonl", "a.parquet")) {
      Path one = dir.resolve("1-" + name);
      Path two = dir.resolve("2-" + name);
      EventGenerator.write(SMALL, one);
      EventGenerator.write(SMALL, two);
      assertThat(name, Files.mismatch(one, two), is(-1L));
    }
    GeneratorConfig sharded = SMALL.toBuilder().shards(3).format(EventFormat.JSONL).build();
    EventGenerator.write(sharded, dir.resolve("s1"));
    EventGenerator.write(sharded, dir.resolve("s2"));
    for (String f : List.of("out-000-of-003.jsonl", "out-001-of-003.jsonl", "out-002-of-003.jsonl")) {
      assertThat(f, Files.mismatch(dir.resolve("s1").resolve(f), dir.resolve("s2").resolve(f)), is(-1L));
    }
  }

  /** The sharded folder has no extension; the format comes from the config. */
  @Test
  void shardedOutputNeedsAFormatWhenTheFolderHasNoExtension() {
    assertThrows(IllegalArgumentException.class,
        () -> EventGenerator.write(SMALL.toBuilder().shards(2).build(), dir.resolve("events")));
  }

  @Test
  void differentSeedGivesDifferentBytes() throws IOException {
    Path a = dir.resolve("a.csv");
    Path b = dir.resolve("b.csv");
    EventGenerator.write(SMALL, a);
    EventGenerator.write(SMALL.toBuilder().seed(43).build(), b);
    assertThat(Files.mismatch(a, b), not(-1L));
  }

  @Test
  void recordCountsMatchTheConfiguredFractionsExactly() throws IOException {
    Path csv = dir.resolve("e.csv");
    GenerationSummary s = EventGenerator.write(SMALL, csv);
    // 20000 events, round(20000 * 0.03) = 600 malformed, round(20000 * 0.02) = 400 duplicates.
    assertThat(SMALL.malformedCount(), is(600L));
    assertThat(SMALL.duplicateCount(), is(400L));
    assertThat(s.records(), is(20_400L));
    assertThat(s.events(), is(20_000L));
    assertThat(s.malformed(), is(600L));
    assertThat(s.exactDuplicates(), is(200L));
    assertThat(s.conflictingDuplicates(), is(200L));

    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.size(), is(1 + 20_400));
    assertThat(lines.get(0), is("event_id,user_id,event_type,amount,status,category,ts"));

    // Every duplicate comes after its original, repeats it once, and is exact or conflicting
    // as counted.
    Map<String, String> firstLine = new HashMap<>();
    int exact = 0;
    int conflicting = 0;
    Set<String> repeated = new HashSet<>();
    for (String line : lines.subList(1, lines.size())) {
      String id = line.substring(0, line.indexOf(','));
      String first = firstLine.putIfAbsent(id, line);
      if (first != null) {
        assertThat("repeated twice: " + id, repeated.add(id), is(true));
        if (first.equals(line)) {
          exact++;
        } else {
          conflicting++;
        }
      }
    }
    assertThat(firstLine.size(), is(20_000));
    assertThat(exact, is(200));
    assertThat(conflicting, is(200));
  }

  @Test
  void everyFormatParsesAndHoldsTheSameRecords() throws IOException {
    GenerationSummary csv = EventGenerator.write(SMALL, dir.resolve("e.csv"));
    EventGenerator.write(SMALL, dir.resolve("e.jsonl"));
    EventGenerator.write(SMALL, dir.resolve("e.parquet"));
    List<Row> fromCsv = readCsv(dir.resolve("e.csv"));
    List<Row> fromJson = readJsonl(dir.resolve("e.jsonl"));
    List<Row> fromParquet = readParquet(dir.resolve("e.parquet"));

    assertThat(fromCsv.size(), is((int) csv.records()));
    assertThat(ids(fromJson), equalTo(ids(fromCsv)));
    assertThat(ids(fromParquet), equalTo(ids(fromCsv)));
    // Beyond the ids: the same values once parsed the way validation reads them.
    for (int i = 0; i < fromCsv.size(); i++) {
      assertThat(canonical(fromJson.get(i)), equalTo(canonical(fromCsv.get(i))));
      assertThat(canonical(fromParquet.get(i)), equalTo(canonical(fromCsv.get(i))));
    }
  }

  @Test
  void malformedRecordsAreExactlyTheConfiguredNumberInEveryFormat() throws IOException {
    GenerationSummary s = EventGenerator.write(SMALL, dir.resolve("e.csv"));
    EventGenerator.write(SMALL, dir.resolve("e.jsonl"));
    EventGenerator.write(SMALL, dir.resolve("e.parquet"));
    for (List<Row> rows : List.of(readCsv(dir.resolve("e.csv")), readJsonl(dir.resolve("e.jsonl")),
        readParquet(dir.resolve("e.parquet")))) {
      Map<Malformation, Long> found = new EnumMap<>(Malformation.class);
      for (Row r : rows) {
        Malformation m = classify(r);
        if (m != null) {
          found.merge(m, 1L, Long::sum);
        }
      }
      // Exactly the configured number, split as the summary says; each of the six kinds gets
      // roughly a sixth (100 expected here; bounds at 60..140).
      assertThat(found.values().stream().mapToLong(Long::longValue).sum(), is(SMALL.malformedCount()));
      assertThat(found, equalTo(s.malformedByKind()));
      assertThat(found.keySet().size(), is(Malformation.values().length));
      assertThat(found.values(), everyItem(allOf(greaterThanOrEqualTo(60L), lessThanOrEqualTo(140L))));
    }
  }

  /**
   * A record moved to another instant (--liveTimestamps) names that instant in its own ts form, as
   * validation reads it; one without a ts or with a bad one keeps it, and nothing else changes.
   */
  @Test
  void aRecordAtAnotherInstantKeepsItsFormAndItsBadTimestamps() {
    long now = 1_764_681_234_567L; // 2025-12-02T13:13:54.567Z
    Map<GeneratedEvent.TimestampForm, String> seen = new EnumMap<>(GeneratedEvent.TimestampForm.class);
    int[] kept = {0};
    EventGenerator.generate(SMALL, e -> {
      GeneratedEvent moved = e.at(now);
      assertThat(moved.eventId(), equalTo(e.eventId()));
      assertThat(moved.amount(), equalTo(e.amount()));
      assertThat(moved.kind(), equalTo(e.kind()));
      if (e.ts() == null || e.malformation() == Malformation.BAD_TIMESTAMP) {
        assertThat(moved.ts(), equalTo(e.ts()));
        kept[0]++;
        return;
      }
      assertThat(moved.tsForm(), equalTo(e.tsForm()));
      assertThat(moved.eventTimeMillis(), equalTo(now));
      seen.put(moved.tsForm(), moved.ts());
    });
    assertThat(kept[0], greaterThan(0));
    assertThat(seen.get(GeneratedEvent.TimestampForm.UTC), equalTo("2025-12-02T13:13:54.567Z"));
    assertThat(seen.get(GeneratedEvent.TimestampForm.PLUS_0530),
        equalTo("2025-12-02T18:43:54.567+05:30"));
    assertThat(seen.get(GeneratedEvent.TimestampForm.MINUS_0800),
        equalTo("2025-12-02T05:13:54.567-08:00"));
    assertThat(seen.get(GeneratedEvent.TimestampForm.EPOCH_MILLIS), equalTo("1764681234567"));
  }

  @Test
  void fieldsStayWithinTheirDomains() {
    LocalDate start = SMALL.startDate();
    long from = start.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    long to = start.plusDays(SMALL.days()).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    Map<GeneratedEvent.TimestampForm, Integer> forms = new EnumMap<>(GeneratedEvent.TimestampForm.class);
    Map<String, Integer> types = new HashMap<>();
    long[] lastOriginal = {Long.MIN_VALUE};
    List<String> problems = new ArrayList<>();
    EventGenerator.generate(SMALL, e -> {
      if (e.userId() != null) {
        int user = Integer.parseInt(e.userId().substring(1));
        if (!e.userId().matches("u[0-9]{5}") || user < 0 || user >= SMALL.users()) {
          problems.add("user " + e.userId());
        }
      }
      if (e.eventTimeMillis() < from || e.eventTimeMillis() >= to) {
        problems.add("time out of range " + e);
      }
      if (e.kind() == Kind.ORIGINAL) {
        // Originals come in time order, so sources see a realistic stream.
        if (e.eventTimeMillis() < lastOriginal[0]) {
          problems.add("out of order " + e);
        }
        lastOriginal[0] = e.eventTimeMillis();
        forms.merge(e.tsForm(), 1, Integer::sum);
        types.merge(e.eventType(), 1, Integer::sum);
      }
      if (!e.isMalformed()) {
        boolean priced = List.of("purchase", "cart", "refund").contains(e.eventType());
        boolean settled = List.of("purchase", "refund").contains(e.eventType());
        if (priced != (e.amount() != null) || settled != (e.status() != null)) {
          problems.add("amount/status " + e);
        }
        if (e.amount() != null && !e.amount().matches("[0-9]+\\.[0-9]{2}")) {
          problems.add("amount " + e);
        }
      }
    });
    assertThat(problems, is(empty()));
    // 85% Z, 5% +05:30, 5% -08:00, 5% epoch millis, within 1.5 points.
    assertThat(share(forms.get(GeneratedEvent.TimestampForm.UTC)), allOf(greaterThan(0.835), lessThan(0.865)));
    assertThat(share(forms.get(GeneratedEvent.TimestampForm.EPOCH_MILLIS)), allOf(greaterThan(0.035), lessThan(0.065)));
    assertThat(share(types.get("view")), allOf(greaterThan(0.535), lessThan(0.565)));
    assertThat(share(types.get("purchase")), allOf(greaterThan(0.135), lessThan(0.165)));
  }

  @Test
  void shardsSplitTheSameRecordsRoundRobin() throws IOException {
    Path folder = dir.resolve("shards");
    Files.createDirectories(folder);
    Files.writeString(folder.resolve("out-000-of-009.csv"), "stale"); // from an earlier run
    Files.writeString(folder.resolve("keep.txt"), "not ours");
    GenerationSummary s = EventGenerator.write(
        SMALL.toBuilder().shards(4).format(EventFormat.CSV).build(), folder);
    assertThat(s.files().stream().map(p -> p.getFileName().toString()).collect(Collectors.toList()),
        contains("out-000-of-004.csv", "out-001-of-004.csv", "out-002-of-004.csv", "out-003-of-004.csv"));
    try (var listing = Files.list(folder)) {
      assertThat(listing.count(), is(5L));
    }
    EventGenerator.write(SMALL, dir.resolve("single.csv"));
    List<Row> single = readCsv(dir.resolve("single.csv"));
    List<List<Row>> parts = new ArrayList<>();
    for (Path p : s.files()) {
      parts.add(readCsv(p));
    }
    for (int i = 0; i < single.size(); i++) {
      assertThat(parts.get(i % 4).get(i / 4), equalTo(single.get(i)));
    }
    assertThat(parts.stream().mapToInt(List::size).sum(), is(single.size()));
  }

  @Test
  void configRejectsNonsenseWithTheOptionName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GeneratorConfig.builder().set("events", "lots"));
    assertThat(e.getMessage(), is("--events=lots is not a valid value"));
    assertThrows(IllegalArgumentException.class, () -> GeneratorConfig.builder().set("colour", "red"));
    assertThrows(IllegalArgumentException.class, () -> GeneratorConfig.builder().users(0).build());
    assertThrows(IllegalArgumentException.class,
        () -> GeneratorConfig.builder().duplicateFraction(0.6).malformedFraction(0.5).build());
    assertThrows(IllegalArgumentException.class,
        () -> EventGenerator.write(SMALL, dir.resolve("events.txt")));
    GeneratorConfig c = GeneratorConfig.builder().set("startDate", "2024-02-29").set("format", "JSON")
        .set("seed", "7").build();
    assertThat(c.startDate(), is(LocalDate.of(2024, 2, 29)));
    assertThat(c.format(), is(EventFormat.JSONL));
  }

  /** Events per day add up to exactly the configured number, weekends a little busier. */
  @Test
  void daysAddUpExactly() {
    GeneratorConfig c = GeneratorConfig.builder().events(1_000_003).days(7).startDate(LocalDate.of(2025, 1, 6)).build();
    long[] perDay = EventGenerator.eventsPerDay(c);
    assertThat(java.util.Arrays.stream(perDay).sum(), is(1_000_003L));
    assertThat(perDay[5], greaterThan(perDay[4])); // Saturday over Friday
  }

  private static double share(Integer n) {
    return n / (double) SMALL.events();
  }

  private static List<String> ids(List<Row> rows) {
    return rows.stream().map(Row::eventId).collect(Collectors.toList());
  }

  /**
   * The kind of malformation validation would find (using the project's own value
   * parser), or null for a valid record.
   */
  static Malformation classify(Row r) {
    if (r.userId() == null || r.userId().isEmpty()) {
      return Malformation.MISSING_USER_ID;
    }
    if (r.ts() == null) {
      return Malformation.MISSING_COLUMN;
    }
    try {
      ValueParser.parseTimestampMillis(r.ts(), ZoneOffset.UTC);
    } catch (ValueParser.BadValueException e) {
      return Malformation.BAD_TIMESTAMP;
    }
    if (r.amount() != null) {
      try {
        double d = (Double) ValueParser.parse(FieldType.DOUBLE, r.amount(), ZoneOffset.UTC);
        if (d < 0) {
          return Malformation.NEGATIVE_AMOUNT;
        }
      } catch (ValueParser.BadValueException e) {
        return r.amount().equals("NaN") ? Malformation.NAN_AMOUNT : Malformation.AMOUNT_NOT_A_NUMBER;
      }
    }
    return null;
  }

  /** A row as a validator sees it: amount as a number and ts as an instant where they parse. */
  private static List<Object> canonical(Row r) {
    Object amount = r.amount();
    if (r.amount() != null) {
      try {
        amount = Double.parseDouble(r.amount());
      } catch (NumberFormatException e) {
        amount = "BAD";
      }
      // "abc" cannot be stored in Parquet's double column; it is +Infinity there.
      if (amount.equals(Double.POSITIVE_INFINITY)) {
        amount = "BAD";
      }
    }
    Object ts = r.ts();
    if (r.ts() != null) {
      try {
        ts = ValueParser.parseTimestampMillis(r.ts(), ZoneOffset.UTC);
      } catch (ValueParser.BadValueException e) {
        ts = r.ts();
      }
    }
    return java.util.Arrays.asList(r.eventId(), r.userId(), r.eventType(), amount, r.status(),
        r.category(), ts);
  }

  static List<Row> readCsv(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    CSVFormat format = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).build();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        CSVParser parser = CSVParser.parse(in, format)) {
      for (CSVRecord rec : parser) {
        rows.add(new Row(csv(rec, 0), csv(rec, 1), csv(rec, 2), csv(rec, 3), csv(rec, 4),
            csv(rec, 5), csv(rec, 6)));
      }
    }
    return rows;
  }

  private static String csv(CSVRecord rec, int i) {
    return i < rec.size() && !rec.get(i).isEmpty() ? rec.get(i) : null;
  }

  static List<Row> readJsonl(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        JsonNode n = JSON.readTree(line);
        rows.add(new Row(json(n, "event_id"), json(n, "user_id"), json(n, "event_type"),
            json(n, "amount"), json(n, "status"), json(n, "category"), json(n, "ts")));
      }
    }
    return rows;
  }

  private static String json(JsonNode n, String key) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? null : v.asText();
  }

  static List<Row> readParquet(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
        HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), new Configuration())).build()) {
      for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
        rows.add(new Row(avro(r, "event_id"), avro(r, "user_id"), avro(r, "event_type"),
            avro(r, "amount"), avro(r, "status"), avro(r, "category"), avro(r, "ts")));
      }
    }
    return rows;
  }

  private static String avro(GenericRecord r, String key) {
    Object v = r.get(key);
    return v == null ? null : v.toString();
  }
}
