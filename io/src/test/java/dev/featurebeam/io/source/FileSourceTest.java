package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.testing.TestPipelineExtension;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.NanoTime;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class FileSourceTest {
  @TempDir Path dir;

  private static Map<String, String> map(String... keyValues) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  /** Runs assertions on the output as a map from source to record. */
  private static SerializableFunction<Iterable<RawRecord>, Void> bySource(
      SerializableConsumer<Map<String, RawRecord>> check) {
    return records -> {
      Map<String, RawRecord> bySource = new HashMap<>();
      for (RawRecord r : records) {
        bySource.put(r.source(), r);
      }
      check.accept(bySource);
      return null;
    };
  }

  interface SerializableConsumer<T> extends java.io.Serializable {
    void accept(T value);
  }

  @Test
  void csvQuotingEmbeddedNewlinesAndShortLines(TestPipeline p) throws Exception {
    Path csv = dir.resolve("events.csv");
    String quoted = "1,\"Smith, John\",\"said \"\"hi\"\"\",10.5";
    String multiLine = "2,plain,\"line one\nline two\",3";
    Files.writeString(csv, "id,name,note,amount\n"
        + quoted + "\n"
        + multiLine + "\n"
        + "3,short\n"
        + "4,,\"\",0\n"
        + "5,5\" screen,x,1\n"
        + "\n\n");
    String path = csv.toString();

    PCollection<RawRecord> out = p.apply(FileSource.read(path));

    PAssert.that(out).containsInAnyOrder(
        RawRecord.of(path + ":2", quoted,
            map("id", "1", "name", "Smith, John", "note", "said \"hi\"", "amount", "10.5")),
        RawRecord.of(path + ":3", multiLine,
            map("id", "2", "name", "plain", "note", "line one\nline two", "amount", "3")),
        RawRecord.malformed(path + ":5", "3,short", "CSV record has 2 columns, header has 4"),
        RawRecord.of(path + ":6", "4,,\"\",0", map("id", "4", "name", "", "note", "", "amount", "0")),
        RawRecord.of(path + ":7", "5,5\" screen,x,1",
            map("id", "5", "name", "5\" screen", "note", "x", "amount", "1")),
        RawRecord.blank(path + ":8"),
        RawRecord.blank(path + ":9"));
    p.run();
  }

  @Test
  void jsonLinesValuesNullsNestedAndInvalidLines(TestPipeline p) throws Exception {
    Path jsonl = dir.resolve("events.jsonl");
    String good = "{\"user_id\":\"u1\",\"amount\":12.50,\"n\":3,\"big\":12345678901234567890,"
        + "\"ok\":true,\"note\":null,\"meta\":{\"a\":[1,2],\"b\":\"x\"}}";
    Files.writeString(jsonl, good + "\n"
        + "\n"
        + "not json\n"
        + "[1,2]\n"
        + "{\"user_id\":\"u2\"} {\"user_id\":\"u3\"}\n"
        + "{\"a\":1,\"a\":2}\n"
        + "  {\"user_id\" : \"u4\" , \"amount\" : \"7\"}  \n"
        + "{\"user_id\": {\"a\":1}}\n"
        + "{\"user_id\": [1,2]}\n");
    String path = jsonl.toString();

    PCollection<RawRecord> out = p.apply(FileSource.read(path));

    PAssert.that(out).satisfies(bySource(records -> {
      assertThat(records.size(), is(9));
      assertThat(records.get(path + ":2"), is(RawRecord.blank(path + ":2")));
      RawRecord first = records.get(path + ":1");
      assertThat(first.payload(), is(good));
      assertThat(first.formatError(), nullValue());
      assertThat(first.fields(), is(map("user_id", "u1", "amount", "12.50", "n", "3",
          "big", "12345678901234567890", "ok", "true", "note", null,
          "meta", "{\"a\":[1,2],\"b\":\"x\"}")));
      assertThat(first.fields().containsKey("note"), is(true));
      // Nested values are named as such, not marked in their text.
      assertThat(first.nested(), is(java.util.Set.of("meta")));
      assertThat(records.get(path + ":7").nested(), is(java.util.Set.of()));
      assertThat(records.get(path + ":8").fields(), is(map("user_id", "{\"a\":1}")));
      assertThat(records.get(path + ":8").nested(), is(java.util.Set.of("user_id")));
      assertThat(records.get(path + ":9").fields(), is(map("user_id", "[1,2]")));
      assertThat(records.get(path + ":9").nested(), is(java.util.Set.of("user_id")));
      assertThat(records.get(path + ":3").formatError(), startsWith("invalid JSON: "));
      assertThat(records.get(path + ":3").payload(), is("not json"));
      assertThat(records.get(path + ":4").formatError(), is("JSON line is not an object"));
      assertThat(records.get(path + ":5").formatError(),
          is("JSON line has content after its object"));
      assertThat(records.get(path + ":6").formatError(),
          allOf(startsWith("invalid JSON: "), containsString("'a'")));
      assertThat(records.get(path + ":7").fields(), is(map("user_id", "u4", "amount", "7")));
    }));
    p.run();
  }

  @Test
  void parquetRendersTypesAndLogicalTypes(TestPipeline p) throws Exception {
    Schema schema = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"Event\",\"fields\":["
        + "{\"name\":\"user_id\",\"type\":\"string\"},"
        + "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
        + "{\"name\":\"amount\",\"type\":[\"null\",\"double\"]},"
        + "{\"name\":\"n\",\"type\":\"int\"},"
        + "{\"name\":\"ok\",\"type\":\"boolean\"},"
        + "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
        + "{\"name\":\"ts_us\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
        + "{\"name\":\"local_ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"local-timestamp-millis\"}},"
        + "{\"name\":\"price\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}},"
        + "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}]}");
    long ts = Instant.parse("2025-01-05T10:00:00.123Z").toEpochMilli();
    Schema priceSchema = schema.getField("price").schema();
    GenericRecord first = new GenericData.Record(schema);
    first.put("user_id", "u1");
    first.put("ts", ts);
    first.put("amount", 12.5);
    first.put("n", 7);
    first.put("ok", true);
    first.put("day", (int) LocalDate.parse("2025-01-05").toEpochDay());
    first.put("ts_us", ts * 1000 + 456);
    first.put("local_ts", ts);
    first.put("price", new Conversions.DecimalConversion().toBytes(
        new BigDecimal("19.90"), priceSchema, priceSchema.getLogicalType()));
    first.put("tags", List.of("a", "b"));
    GenericRecord second = new GenericData.Record(schema);
    second.put("user_id", "u2");
    second.put("ts", 0L);
    second.put("amount", null);
    second.put("n", -1);
    second.put("ok", false);
    second.put("day", 0);
    second.put("ts_us", -1L);
    second.put("local_ts", 0L);
    second.put("price", ByteBuffer.wrap(new byte[] {0}));
    second.put("tags", List.of());
    Path file = dir.resolve("events.parquet");
    ParquetTestFiles.writeAvro(file, schema, List.of(first, second));
    String path = file.toString();

    PCollection<RawRecord> out = p.apply(FileSource.read(path));

    PAssert.that(out).satisfies(bySource(records -> {
      assertThat(records.size(), is(2));
      RawRecord r1 = records.get(path + ":1");
      // UTC timestamps as ISO-8601 instants, so that a field's epoch format cannot misread them.
      assertThat(r1.fields(), is(map("user_id", "u1", "ts", "2025-01-05T10:00:00.123Z", "amount", "12.5",
          "n", "7", "ok", "true", "day", "2025-01-05", "ts_us", "2025-01-05T10:00:00.123Z",
          "local_ts", "2025-01-05T10:00:00.123", "price", "19.90", "tags", "[\"a\", \"b\"]")));
      assertThat(r1.nested(), is(java.util.Set.of("tags")));
      assertThat(r1.payload(), allOf(containsString("\"user_id\": \"u1\""),
          containsString("\"ts\": " + ts)));
      RawRecord r2 = records.get(path + ":2");
      assertThat(r2.fields(), hasEntry("amount", null));
      assertThat(r2.fields(), hasEntry("ts", "1970-01-01T00:00:00Z"));
      // micros round down to whole millis
      assertThat(r2.fields(), hasEntry("ts_us", "1969-12-31T23:59:59.999Z"));
      assertThat(r2.fields(), hasEntry("day", "1970-01-01"));
      assertThat(r2.fields(), hasEntry("local_ts", "1970-01-01T00:00:00"));
      assertThat(r2.fields(), hasEntry("price", "0.00"));
    }));
    p.run();
  }

  @Test
  void parquetWrittenWithoutAnAvroSchema(TestPipeline p) throws Exception {
    // As Spark or pyarrow write it: legacy INT96 and annotated timestamps, unannotated binary.
    MessageType type = MessageTypeParser.parseMessageType("message spark_schema {"
        + " required binary user_id (STRING);"
        + " optional int96 ts96;"
        + " optional int64 ts_utc (TIMESTAMP(MICROS,true));"
        + " optional binary raw;"
        + " optional int32 d (DATE);"
        + " optional double amount; }");
    Group g = new SimpleGroupFactory(type).newGroup()
        .append("user_id", "u1")
        .append("ts96", new NanoTime(2_440_589, 3_600_000_000_123L)) // 1970-01-02T01:00:00.000000123Z
        .append("ts_utc", 2_000_999L)
        .append("raw", "hello")
        .append("d", 3);
    Path file = dir.resolve("spark.parquet");
    ParquetTestFiles.writeGroups(file, type, List.of(g));
    String path = file.toString();

    PAssert.that(p.apply(FileSource.read(path))).satisfies(bySource(records -> {
      assertThat(records.get(path + ":1").fields(), is(map("user_id", "u1",
          "ts96", "1970-01-02T01:00:00Z", "ts_utc", "1970-01-01T00:00:02Z", "raw", "hello",
          "d", "1970-01-04", "amount", null)));
    }));
    p.run();
  }

  @Test
  void globReadsEveryMatchedFile(TestPipeline p) throws Exception {
    Files.writeString(dir.resolve("a.csv"), "user_id,amount\nu1,1\nu2,2\n");
    Files.writeString(dir.resolve("b.csv"), "amount,user_id\n3,u3\n");
    Files.writeString(dir.resolve("c.jsonl"), "{\"user_id\":\"u4\"}\n");

    PCollection<RawRecord> out = p.apply(FileSource.read(dir + "/*.csv"));

    String a = dir.resolve("a.csv").toString();
    String b = dir.resolve("b.csv").toString();
    PAssert.that(out).containsInAnyOrder(
        RawRecord.of(a + ":2", "u1,1", map("user_id", "u1", "amount", "1")),
        RawRecord.of(a + ":3", "u2,2", map("user_id", "u2", "amount", "2")),
        RawRecord.of(b + ":2", "3,u3", map("amount", "3", "user_id", "u3")));
    p.run();
  }

  @Test
  void readsTheSeedExercise(TestPipeline p) throws Exception {
    String path = Paths.get(getClass().getResource("/source/ex1_transactions.csv").toURI()).toString();

    PCollection<RawRecord> out = p.apply(FileSource.read(path));

    PAssert.that(out).containsInAnyOrder(
        ex1(path, 2, "u1,2025-01-05T10:00:00,10,success"),
        ex1(path, 3, "u1,2025-01-07T09:00:00,30,success"),
        ex1(path, 4, "u1,2025-01-09T15:00:00,20,failed"),
        ex1(path, 5, "u2,2025-01-03T12:00:00,5,success"),
        ex1(path, 6, "u2,2025-01-08T08:00:00,15,success"));
    p.run();
  }

  private static RawRecord ex1(String path, int line, String text) {
    String[] v = text.split(",");
    return RawRecord.of(path + ":" + line, text,
        map("user_id", v[0], "event_ts", v[1], "amount", v[2], "status", v[3]));
  }

  @Test
  void emptyFileHasNoRecords(TestPipeline p) throws Exception {
    Path csv = dir.resolve("empty.csv");
    Files.write(csv, new byte[0]);
    PAssert.that(p.apply(FileSource.read(csv.toString()))).empty();
    p.run();
  }

  @Test
  void invalidUtf8IsReplacedNotFatal(TestPipeline p) throws Exception {
    Path csv = dir.resolve("latin1.csv");
    byte[] header = "user_id,city\n".getBytes(StandardCharsets.UTF_8);
    byte[] row = {'u', '1', ',', 'K', (byte) 0xF6, 'l', 'n', '\n'};
    byte[] bytes = new byte[header.length + row.length];
    System.arraycopy(header, 0, bytes, 0, header.length);
    System.arraycopy(row, 0, bytes, header.length, row.length);
    Files.write(csv, bytes);
    String path = csv.toString();
    PAssert.that(p.apply(FileSource.read(path))).containsInAnyOrder(
        RawRecord.of(path + ":2", "u1,K\uFFFDln", map("user_id", "u1", "city", "K\uFFFDln")));
    p.run();
  }

  /**
   * A file read in parts of a few dozen bytes gives exactly the records of one reader: the same
   * sources (line numbers), payloads and fields, with quoted line breaks, CRLF and lone CR line
   * ends, blank lines, a byte order mark, doubled quotes, multi-byte text and malformed lines.
   */
  @Test
  void readingInPartsGivesTheRecordsOfOneReader() throws Exception {
    StringBuilder csv = new StringBuilder("\uFEFFid,name,note\r\n");
    StringBuilder jsonl = new StringBuilder("\uFEFF");
    for (int i = 0; i < 40; i++) {
      switch (i % 6) {
        case 0: csv.append(i).append(",plain,a\"b\n"); break;
        case 1: csv.append(i).append(",\"Smith, Jo\",\"two\nlines \"\"q\"\"\"\r\n"); break;
        case 2: csv.append(i).append(",é漢字,x\r"); break;
        case 3: csv.append("\n\n").append(i).append(",short\n"); break;
        case 4: csv.append(i).append(",\"\",\"\"\"\n\"\n"); break;
        default: csv.append(i).append(",\"open,z\n"); break;
      }
      jsonl.append("{\"id\":").append(i).append(",\"t\":\"é\\n\"}")
          .append(i % 2 == 0 ? "\n" : "\r\n");
      if (i % 7 == 0) {
        jsonl.append("\n");
      }
    }
    csv.append("99,last,no newline");
    Path csvFile = dir.resolve("parts.csv");
    Path jsonFile = dir.resolve("parts.jsonl");
    Files.writeString(csvFile, csv);
    Files.writeString(jsonFile, jsonl);
    for (Path file : List.of(csvFile, jsonFile)) {
      List<RawRecord> whole = readAll(file, Long.MAX_VALUE);
      assertThat(whole.size(), greaterThan(20));
      assertThat(whole.stream().filter(RawRecord::blank).count(), greaterThan(5L));
      try (java.io.InputStream in = Files.newInputStream(file)) {
        assertThat(FileSplits.find(in, Files.size(file), file == csvFile, 40).size(),
            greaterThan(5));
      }
      assertThat(readAll(file, 40), is(whole));
    }
  }

  /**
   * Every blank line outside a quoted field is a record, once, whole or in parts of a few bytes:
   * before the header, between records, white space only, CRLF, at the end. The header is none.
   */
  @Test
  void blankLinesAreRecordsOnceEachWholeOrInParts() throws Exception {
    Path csvFile = dir.resolve("blank.csv");
    Files.writeString(csvFile, "\uFEFF\n  \r\n" // 1, 2
        + "id,note\n" // 3: the header
        + "1,a\n\n\n" // 4; 5, 6
        + "2,\"x\n\n  \ny\"\n" // 7-10: the blank lines 8 and 9 are inside quotes
        + "\t\r\n3,b\r\n \n" // 11; 12; 13
        + "\n"); // 14
    Path jsonFile = dir.resolve("blank.jsonl");
    Files.writeString(jsonFile, "\uFEFF\n{\"id\":1}\n \n\n{\"id\":2}\r\n\t\r\n{\"id\":3}\n\n");
    List<Long> csvBlank = List.of(1L, 2L, 5L, 6L, 11L, 13L, 14L);
    List<Long> jsonBlank = List.of(1L, 3L, 4L, 6L, 8L);
    for (Path file : List.of(csvFile, jsonFile)) {
      List<Long> expected = file == csvFile ? csvBlank : jsonBlank;
      for (long part : new long[] {Long.MAX_VALUE, 1, 3, 7}) {
        List<RawRecord> records = readAll(file, part);
        List<Long> blank = new java.util.ArrayList<>();
        for (RawRecord r : records) {
          if (r.blank()) {
            assertThat(r, is(RawRecord.blank(r.source())));
            blank.add(Long.parseLong(r.source().substring(r.source().lastIndexOf(':') + 1)));
          }
        }
        blank.sort(null);
        assertThat(file + " in parts of " + part, blank, is(expected));
        assertThat(file + " in parts of " + part, records.size() - blank.size(), is(3));
      }
    }
  }

  /**
   * A 3 MiB line is a malformed record that keeps its first 64 KiB and says its length; the line
   * after it reads as ever, whole or in parts.
   */
  @Test
  void aLineOverTheLimitIsMalformedAndReadingGoesOn() throws Exception {
    String x = "x".repeat(3 << 20);
    Path csvFile = dir.resolve("long.csv");
    String csvLine = "1," + x;
    Files.writeString(csvFile, "id,note\n" + csvLine + "\n2,ok\n");
    Path jsonFile = dir.resolve("long.jsonl");
    String jsonLine = "{\"id\":\"" + x + "\"}";
    Files.writeString(jsonFile, jsonLine + "\n{\"id\":2}\n");
    for (long part : new long[] {Long.MAX_VALUE, 1 << 20}) {
      List<RawRecord> csv = readAll(csvFile, part);
      String c = csvFile.toString();
      assertThat(csv, is(List.of(
          RawRecord.malformed(c + ":2", csvLine.substring(0, 1 << 16), "CSV record of "
              + csvLine.length() + " characters is over the limit of 1048576; the payload keeps its first 65536",
              csvLine.length()),
          RawRecord.of(c + ":3", "2,ok", map("id", "2", "note", "ok")))));
      List<RawRecord> json = readAll(jsonFile, part);
      String j = jsonFile.toString();
      assertThat(json, is(List.of(
          RawRecord.malformed(j + ":1", jsonLine.substring(0, 1 << 16), "JSON line of "
              + jsonLine.length() + " characters is over the limit of 1048576; the payload keeps its first 65536",
              jsonLine.length()),
          RawRecord.of(j + ":2", "{\"id\":2}", map("id", "2")))));
    }
  }

  private static final java.util.Queue<RawRecord> READ =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** Every record of {@code file} read in parts of {@code partBytes}, sorted by source. */
  private static List<RawRecord> readAll(Path file, long partBytes) {
    READ.clear();
    org.apache.beam.sdk.Pipeline p = org.apache.beam.sdk.Pipeline.create();
    p.apply(partBytes == Long.MAX_VALUE
        ? FileSource.read(file.toString()) : FileSource.read(file.toString()).inParts(partBytes))
        .apply(org.apache.beam.sdk.transforms.ParDo.of(
            new org.apache.beam.sdk.transforms.DoFn<RawRecord, Void>() {
              @ProcessElement
              public void process(@Element RawRecord r) {
                READ.add(r);
              }
            }));
    p.run().waitUntilFinish();
    List<RawRecord> records = new java.util.ArrayList<>(READ);
    records.sort(java.util.Comparator.comparing(RawRecord::source));
    return records;
  }
}
