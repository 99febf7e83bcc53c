package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldType;
import dev.featurebeam.spec.SpecParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceContractTest {
  private static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: txn_features",
      "version: 1",
      "entity: user_id",
      "timestamp: event_ts",
      "source_schema:",
      "  user_id:  {type: string, required: true}",
      "  event_ts: {type: timestamp}", // required anyway: it is the spec's timestamp
      "  amount:   {type: double}",
      "  status:   {type: string}",
      "features:",
      "  - {name: txn_count_7d, agg: count, window: 7d}",
      ""));

  @TempDir Path dir;

  @Test
  void goodSourceReturnsTheFilesSortedWithSizes() throws Exception {
    // Blank lines before the header are no header.
    Files.writeString(dir.resolve("b.csv"), "\n \r\nuser_id,event_ts\nu1,2025-01-01T00:00:00Z\n");
    Files.writeString(dir.resolve("a.csv"), "\uFEFFevent_ts, user_id ,status,extra\n");
    Files.writeString(dir.resolve("c.jsonl"), "{}\n");
    writeEvents(dir.resolve("d.parquet"));

    List<SourceFile> files = SourceContract.check(SPEC, dir + "/*");

    assertThat(files, contains(
        SourceFile.of(dir.resolve("a.csv").toString(), Files.size(dir.resolve("a.csv")), FileFormat.CSV),
        SourceFile.of(dir.resolve("b.csv").toString(), Files.size(dir.resolve("b.csv")), FileFormat.CSV),
        SourceFile.of(dir.resolve("c.jsonl").toString(), 3, FileFormat.JSONL),
        SourceFile.of(dir.resolve("d.parquet").toString(), Files.size(dir.resolve("d.parquet")),
            FileFormat.PARQUET)));
  }

  @Test
  void csvHeaderLackingARequiredField() throws Exception {
    Path csv = dir.resolve("a.csv");
    Files.writeString(csv, "user_id,amount\nu1,3\n");
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, csv.toString()));
    assertThat(e.getMessage(), is("source file " + csv + " lacks required field 'event_ts'"));
  }

  @Test
  void emptyCsvLacksEveryRequiredField() throws Exception {
    Path csv = dir.resolve("a.csv");
    Files.writeString(csv, "");
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, csv.toString()));
    assertThat(e.getMessage(), containsString("lacks required fields 'user_id', 'event_ts'"));
  }

  @Test
  void duplicateCsvColumn() throws Exception {
    Path csv = dir.resolve("a.csv");
    Files.writeString(csv, "user_id,event_ts,user_id\n");
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, csv.toString()));
    assertThat(e.getMessage(), containsString("'user_id' twice"));
  }

  @Test
  void oneBadFileInAGlobFailsTheCheck() throws Exception {
    Files.writeString(dir.resolve("a.csv"), "user_id,event_ts\n");
    Files.writeString(dir.resolve("b.csv"), "user,event_ts\n");
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, dir + "/*.csv"));
    assertThat(e.getMessage(), allOf(containsString("b.csv"), containsString("'user_id'")));
  }

  @Test
  void noMatch() {
    String glob = dir + "/*.csv";
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, glob));
    assertThat(e.getMessage(), is("no file matches " + glob));
    String missing = dir + "/missing.csv";
    e = assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, missing));
    assertThat(e.getMessage(), is("no file matches " + missing));
  }

  @Test
  void unsupportedExtension() throws Exception {
    Path txt = dir.resolve("events.txt");
    Files.writeString(txt, "x");
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, txt.toString()));
    assertThat(e.getMessage(), containsString(txt.toString()));
  }

  @Test
  void parquetLackingARequiredField() throws Exception {
    Path file = dir.resolve("a.parquet");
    Schema schema = SchemaBuilder.record("E").fields().requiredString("user_id").endRecord();
    GenericRecord r = new GenericData.Record(schema);
    r.put("user_id", "u1");
    ParquetTestFiles.writeAvro(file, schema, List.of(r));
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, file.toString()));
    assertThat(e.getMessage(), is("source file " + file + " lacks required field 'event_ts'"));
  }

  @Test
  void parquetColumnOfAnIncompatibleType() throws Exception {
    // Written without Avro: the check derives the schema from the Parquet types.
    Path file = dir.resolve("a.parquet");
    MessageType type = MessageTypeParser.parseMessageType("message e {"
        + " required binary user_id (STRING);"
        + " required int64 event_ts (TIMESTAMP(MILLIS,true));"
        + " optional binary amount (STRING); }");
    Group g = new SimpleGroupFactory(type).newGroup()
        .append("user_id", "u1").append("event_ts", 1L).append("amount", "12.50");
    ParquetTestFiles.writeGroups(file, type, List.of(g));
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, file.toString()));
    assertThat(e.getMessage(), is("source file " + file + " has field 'amount' of type string,"
        + " which cannot hold the declared type double"));
  }

  @Test
  void legacyInt96TimestampSatisfiesATimestampField() throws Exception {
    Path file = dir.resolve("a.parquet");
    MessageType type = MessageTypeParser.parseMessageType(
        "message e { required binary user_id (STRING); optional int96 event_ts; optional int96 amount; }");
    ParquetTestFiles.writeGroups(file, type, List.of());
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, file.toString()));
    // event_ts passes; amount (double) cannot come from a timestamp.
    assertThat(e.getMessage(), is("source file " + file + " has field 'amount' of type int96,"
        + " which cannot hold the declared type double"));
  }

  @Test
  void notAParquetFile() throws Exception {
    Path file = dir.resolve("a.parquet");
    Files.writeString(file, "user_id,event_ts\n");
    SchemaContractException e =
        assertThrows(SchemaContractException.class, () -> SourceContract.check(SPEC, file.toString()));
    assertThat(e.getMessage(), containsString("cannot read the Parquet schema of " + file));
  }

  @Test
  void typeCompatibility() {
    Schema date = SchemaBuilder.builder().intType();
    date.addProp("logicalType", "date");
    date = new Schema.Parser().parse(date.toString());
    Schema tsMillis = new Schema.Parser().parse("{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}");
    Schema localTs = new Schema.Parser().parse("{\"type\":\"long\",\"logicalType\":\"local-timestamp-micros\"}");
    Schema decimal = new Schema.Parser().parse(
        "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}");
    Schema nullableInt = SchemaBuilder.builder().nullable().intType();
    Schema string = SchemaBuilder.builder().stringType();
    Schema dbl = SchemaBuilder.builder().doubleType();
    Schema bool = SchemaBuilder.builder().booleanType();
    Schema list = SchemaBuilder.array().items().stringType();

    assertThat(SourceContract.compatible(FieldType.STRING, nullableInt), is(true));
    assertThat(SourceContract.compatible(FieldType.STRING, decimal), is(true));
    assertThat(SourceContract.compatible(FieldType.STRING, list), is(false));
    assertThat(SourceContract.compatible(FieldType.LONG, nullableInt), is(true));
    assertThat(SourceContract.compatible(FieldType.LONG, dbl), is(false));
    assertThat(SourceContract.compatible(FieldType.LONG, date), is(false));
    // Timestamps render as ISO-8601 instants: text, not numbers.
    assertThat(SourceContract.compatible(FieldType.LONG, tsMillis), is(false));
    assertThat(SourceContract.compatible(FieldType.DOUBLE, tsMillis), is(false));
    assertThat(SourceContract.compatible(FieldType.STRING, tsMillis), is(true));
    assertThat(SourceContract.compatible(FieldType.DOUBLE, nullableInt), is(true));
    assertThat(SourceContract.compatible(FieldType.DOUBLE, decimal), is(true));
    assertThat(SourceContract.compatible(FieldType.DOUBLE, string), is(false));
    assertThat(SourceContract.compatible(FieldType.BOOLEAN, bool), is(true));
    assertThat(SourceContract.compatible(FieldType.BOOLEAN, string), is(false));
    assertThat(SourceContract.compatible(FieldType.TIMESTAMP, tsMillis), is(true));
    assertThat(SourceContract.compatible(FieldType.TIMESTAMP, localTs), is(true));
    assertThat(SourceContract.compatible(FieldType.TIMESTAMP, SchemaBuilder.builder().longType()), is(true));
    assertThat(SourceContract.compatible(FieldType.TIMESTAMP, string), is(true));
    assertThat(SourceContract.compatible(FieldType.TIMESTAMP, date), is(true));
    assertThat(SourceContract.compatible(FieldType.TIMESTAMP, nullableInt), is(false));
    assertThat(SourceContract.compatible(FieldType.TIMESTAMP, dbl), is(false));
  }

  private static void writeEvents(Path file) throws Exception {
    Schema schema = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"E\",\"fields\":["
        + "{\"name\":\"user_id\",\"type\":\"string\"},"
        + "{\"name\":\"event_ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
        + "{\"name\":\"amount\",\"type\":[\"null\",\"long\"]}]}");
    GenericRecord r = new GenericData.Record(schema);
    r.put("user_id", "u1");
    r.put("event_ts", 1L);
    r.put("amount", 5L);
    ParquetTestFiles.writeAvro(file, schema, List.of(r));
  }
}
