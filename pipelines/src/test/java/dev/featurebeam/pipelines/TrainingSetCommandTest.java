package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.io.sink.PartitionReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code featurebeam training-set} end to end: hand-computed values at and around a spine row's
 * instant, the spine's columns passed through in their order, bad spine rows quarantined and
 * counted, a spine without its columns refused, the same bytes on a rerun, a shuffled spine and
 * Flink, and the snapshot mode's choice of partition.
 */
class TrainingSetCommandTest {
  static final String SPEC = String.join("\n",
      "feature_set: pit",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "dedup_key: event_id",
      "source_schema:",
      "  event_id: {type: string, required: true}",
      "  user_id: {type: string, required: true}",
      "  event_type: {type: string}",
      "  amount: {type: double, min: 0}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n_1h, agg: count, window: 1h}",
      "  - {name: amt_sum_2d, agg: sum, field: amount, window: 2d}",
      "  - {name: last_type, agg: last, field: event_type}",
      "  - {name: dsl, agg: days_since_last}",
      "  - {name: active_30m, agg: exists, window: 30m}",
      "");

  static final String EVENTS = String.join("\n",
      "event_id,user_id,event_type,amount,ts",
      "e1,u1,purchase,10.0,2025-01-10T11:59:59.999Z",
      "e2,u1,view,,2025-01-10T12:00:00Z",
      "e3,u1,purchase,5.0,2025-01-09T00:00:00Z",
      "e4,u2,view,,2025-01-10T11:30:00Z",
      "e3,u1,purchase,5.0,2025-01-09T00:00:00Z",
      "e5,u1,purchase,-5,2025-01-10T10:00:00Z",
      "");

  static final List<String> SPINE = List.of(
      "u1,2025-01-10T12:00:00Z,1",
      "u1,2025-01-10T13:00:00+01:00,1",
      "u1,2025-01-10T12:00:00Z,1",
      ",2025-01-10T12:00:00Z,0",
      "u2,not-a-time,0",
      "u2,,0",
      "u3,1736510400000,1",
      "u2,2025-01-10T11:59:59.999Z,0");

  /** The rows, sorted by instant, entity, then the spine's text; the hand-computed features. */
  static final List<String> EXPECTED = List.of(
      "u2,2025-01-10T11:59:59.999Z,0,1,,view,0,true",
      "u1,2025-01-10T12:00:00Z,1,1,15.0,purchase,0,true",
      "u1,2025-01-10T12:00:00Z,1,1,15.0,purchase,0,true",
      "u1,2025-01-10T13:00:00+01:00,1,1,15.0,purchase,0,true",
      "u3,1736510400000,1,0,,,,false");

  @TempDir
  Path dir;

  @Test
  void exactRowsQuarantineAndReport() throws IOException {
    Files.writeString(dir.resolve("spec.yaml"), SPEC);
    Files.writeString(dir.resolve("events.csv"), EVENTS);
    Path spine = spine("spine.csv", SPINE);
    Path out = dir.resolve("train.parquet");
    CliRun r = run("--spine=" + spine, "--out=" + out);
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(lines(out), equalTo(EXPECTED));
    Schema schema = PartitionReader.schema(out);
    List<String> names = new ArrayList<>();
    schema.getFields().forEach(f -> names.add(f.name()));
    assertThat(names, contains("user_id", "timestamp", "label", "n_1h", "amt_sum_2d",
        "last_type", "dsl", "active_30m"));
    assertThat(PartitionReader.readFile(out).get(0).get("dsl").getClass().getSimpleName(),
        equalTo("Integer"));

    JsonNode report = new ObjectMapper().readTree(dir.resolve("train.parquet.report.json").toFile());
    assertThat(report.at("/spine_rows/read").asLong(), equalTo(8L));
    assertThat(report.at("/spine_rows/valid").asLong(), equalTo(5L));
    assertThat(report.at("/spine_rows/quarantined").asLong(), equalTo(3L));
    assertThat(report.at("/spine_rows/quarantine_reasons/MISSING:user_id").asLong(), equalTo(1L));
    assertThat(report.at("/spine_rows/quarantine_reasons/MISSING:timestamp").asLong(),
        equalTo(1L));
    assertThat(report.at("/spine_rows/quarantine_reasons/BAD_TIMESTAMP:timestamp").asLong(),
        equalTo(1L));
    assertThat(report.at("/events/valid").asLong(), equalTo(4L));
    assertThat(report.at("/events/quarantined").asLong(), equalTo(1L));
    assertThat(report.at("/events/duplicates_exact").asLong(), equalTo(1L));
    assertThat(report.at("/rows").asLong(), equalTo(5L));
    List<String> quarantine =
        Files.readAllLines(dir.resolve("train.parquet.quarantine.jsonl"));
    assertThat(quarantine.size(), equalTo(4));
    assertThat(String.join("\n", quarantine), containsString("\"reason\":\"BAD_TIMESTAMP:timestamp\""));
    assertThat(String.join("\n", quarantine), containsString("\"reason\":\"OUT_OF_RANGE:amount\""));
    assertThat(r.out(), containsString("5 rows"));

    // The same spine as JSON lines (numbers as JSON numbers, nulls): the same file, byte for byte.
    Path jsonl = dir.resolve("spine.jsonl");
    Files.writeString(jsonl, String.join("\n",
        "{\"user_id\": \"u1\", \"timestamp\": \"2025-01-10T12:00:00Z\", \"label\": 1}",
        "{\"user_id\": \"u1\", \"timestamp\": \"2025-01-10T13:00:00+01:00\", \"label\": 1}",
        "{\"user_id\": \"u1\", \"timestamp\": \"2025-01-10T12:00:00Z\", \"label\": 1}",
        "{\"user_id\": null, \"timestamp\": \"2025-01-10T12:00:00Z\", \"label\": 0}",
        "{\"user_id\": \"u2\", \"timestamp\": \"not-a-time\", \"label\": 0}",
        "",
        "{\"user_id\": \"u2\", \"label\": 0}",
        "{\"user_id\": \"u3\", \"timestamp\": 1736510400000, \"label\": 1}",
        "{\"user_id\": \"u2\", \"timestamp\": \"2025-01-10T11:59:59.999Z\", \"label\": 0}",
        ""));
    Path fromJson = dir.resolve("json.parquet");
    r = run("--spine=" + jsonl, "--out=" + fromJson);
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(Files.readAllBytes(fromJson), equalTo(Files.readAllBytes(out)));
    report = new ObjectMapper().readTree(dir.resolve("json.parquet.report.json").toFile());
    assertThat(report.at("/spine_rows/blank").asLong(), equalTo(1L));
    assertThat(report.at("/spine_rows/quarantined").asLong(), equalTo(3L));
  }

  /**
   * A Parquet spine: its plain-typed columns keep their Avro types and values (a timestamp, a
   * long, a required double, a nullable boolean, a date); others (a decimal) pass as the reader's
   * text.
   */
  @Test
  void aParquetSpine() throws IOException {
    Files.writeString(dir.resolve("spec.yaml"), SPEC);
    Files.writeString(dir.resolve("events.csv"), EVENTS);
    Schema text = Schema.createUnion(Schema.create(Schema.Type.NULL),
        Schema.create(Schema.Type.STRING));
    Schema time = Schema.createUnion(Schema.create(Schema.Type.NULL),
        org.apache.avro.LogicalTypes.timestampMillis().addToSchema(
            Schema.create(Schema.Type.LONG)));
    Schema number = Schema.createUnion(Schema.create(Schema.Type.NULL),
        Schema.create(Schema.Type.LONG));
    Schema flag = Schema.createUnion(Schema.create(Schema.Type.NULL),
        Schema.create(Schema.Type.BOOLEAN));
    Schema day = org.apache.avro.LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
    Schema decimal = org.apache.avro.LogicalTypes.decimal(9, 2)
        .addToSchema(Schema.create(Schema.Type.BYTES));
    Schema schema = Schema.createRecord("spine", null, null, false, List.of(
        new Schema.Field("user_id", text), new Schema.Field("timestamp", time),
        new Schema.Field("label", number), new Schema.Field("score", Schema.create(Schema.Type.DOUBLE)),
        new Schema.Field("flag", flag), new Schema.Field("day", day),
        new Schema.Field("price", decimal)));
    Path spine = dir.resolve("spine.parquet");
    long noon = java.time.Instant.parse("2025-01-10T12:00:00Z").toEpochMilli();
    java.nio.ByteBuffer price = java.nio.ByteBuffer.wrap(
        java.math.BigInteger.valueOf(1999).toByteArray()); // 19.99
    int jan10 = (int) java.time.LocalDate.parse("2025-01-10").toEpochDay();
    Object[][] rows = {{"u1", noon, 1L, 0.1, true, jan10, price},
        {"u1", noon, 1L, 0.1, true, jan10, price}, {null, noon, 0L, 2.5, null, jan10, price},
        {"u3", noon, 1L, -3.25e-7, false, jan10 - 1, price},
        {"u2", noon - 1, 0L, 1e300, null, jan10, price}};
    try (org.apache.parquet.hadoop.ParquetWriter<GenericRecord> w =
        org.apache.parquet.avro.AvroParquetWriter.<GenericRecord>builder(
                new dev.featurebeam.io.sink.LocalOutputFile(spine))
            .withSchema(schema)
            .withConf(new org.apache.hadoop.conf.Configuration(false))
            .build()) {
      for (Object[] row : rows) {
        org.apache.avro.generic.GenericData.Record rec =
            new org.apache.avro.generic.GenericData.Record(schema);
        for (int i = 0; i < row.length; i++) {
          rec.put(i, row[i]);
        }
        w.write(rec);
      }
    }
    Path out = dir.resolve("p.parquet");
    CliRun r = run("--spine=" + spine, "--out=" + out);
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(lines(out), equalTo(List.of(
        "u2,1736510399999,0,1.0E300,,20098,19.99,1,,view,0,true",
        "u1,1736510400000,1,0.1,true,20098,19.99,1,15.0,purchase,0,true",
        "u1,1736510400000,1,0.1,true,20098,19.99,1,15.0,purchase,0,true",
        "u3,1736510400000,1,-3.25E-7,false,20097,19.99,0,,,,false")));
    Schema written = PartitionReader.schema(out);
    for (String typed : List.of("timestamp", "label", "score", "flag", "day")) {
      assertThat(typed, written.getField(typed).schema(), equalTo(schema.getField(typed).schema()));
    }
    assertThat(written.getField("price").schema(), equalTo(text));
    JsonNode report = new ObjectMapper().readTree(dir.resolve("p.parquet.report.json").toFile());
    assertThat(report.at("/spine_rows/quarantine_reasons/MISSING:user_id").asLong(), equalTo(1L));
  }

  @Test
  void aSpineWithoutItsEntityOrTimestampColumnStopsTheRun() throws IOException {
    Files.writeString(dir.resolve("spec.yaml"), SPEC);
    Files.writeString(dir.resolve("events.csv"), EVENTS);
    Path noTime = dir.resolve("no_time.csv");
    Files.writeString(noTime, "user_id,time,label\nu1,2025-01-10T12:00:00Z,1\n");
    CliRun r = run("--spine=" + noTime, "--out=" + dir.resolve("a.parquet"));
    assertThat(r.exit(), equalTo(2));
    assertThat(r.err(), containsString("no column 'timestamp'"));
    Path noEntity = dir.resolve("no_entity.csv");
    Files.writeString(noEntity, "user,timestamp\nu1,2025-01-10T12:00:00Z\n");
    r = run("--spine=" + noEntity, "--out=" + dir.resolve("b.parquet"));
    assertThat(r.exit(), equalTo(2));
    assertThat(r.err(), containsString("no column 'user_id'"));
    // with --spineTimestamp naming the column, the first spine is fine
    r = run("--spine=" + noTime, "--spineTimestamp=time", "--out=" + dir.resolve("c.parquet"));
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(lines(dir.resolve("c.parquet")),
        equalTo(List.of("u1,2025-01-10T12:00:00Z,1,1,15.0,purchase,0,true")));
    assertThat(Files.exists(dir.resolve("a.parquet")), equalTo(false));

    ByteArrayOutputStream help = new ByteArrayOutputStream();
    assertThat(FeatureBeamCli.run(new String[] {"training-set", "--help"},
        new PrintStream(help, true, StandardCharsets.UTF_8),
        new PrintStream(new ByteArrayOutputStream())), equalTo(0));
    String text = help.toString(StandardCharsets.UTF_8);
    for (String option : List.of("--spine=SPINE  (required)", "--out=OUT  (required)",
        "--spineTimestamp=SPINE_TIMESTAMP  (default timestamp)", "--mode=MODE  (default exact)",
        "--store=", "--maxStaleness=", "--source=")) {
      assertThat(text, containsString(option));
    }
  }

  /** A rerun, the spine in reverse order, and FlinkRunner at parallelism 2 write the same bytes. */
  @Test
  @org.junit.jupiter.api.Timeout(240)
  void theSameBytesOnARerunAShuffledSpineAndFlink() throws IOException {
    Files.writeString(dir.resolve("spec.yaml"), SPEC);
    Files.writeString(dir.resolve("events.csv"), EVENTS);
    Path spine = spine("spine.csv", SPINE);
    List<String> reversed = new ArrayList<>(SPINE);
    Collections.reverse(reversed);
    Path shuffled = spine("shuffled.csv", reversed);
    Path flink = dir.resolve("flink.parquet");
    CliRun r = runOn("FlinkRunner", "--spine=" + shuffled, "--out=" + flink, "--parallelism=2");
    assertThat(r.err(), r.exit(), equalTo(0));
    Path first = dir.resolve("first.parquet");
    assertThat(run("--spine=" + spine, "--out=" + first).exit(), equalTo(0));
    byte[] bytes = Files.readAllBytes(first);
    assertThat(run("--spine=" + spine, "--out=" + first).exit(), equalTo(0));
    assertThat(Files.readAllBytes(first), equalTo(bytes));
    Path second = dir.resolve("second.parquet");
    assertThat(run("--spine=" + shuffled, "--out=" + second).exit(), equalTo(0));
    assertThat(Files.readAllBytes(second), equalTo(bytes));
    assertThat(Files.readAllBytes(flink), equalTo(bytes));
    // Across JVMs too: the footer lists encodings in sorted order, not in a hash set's, which
    // changes from one JVM to the next (in this one it may happen to be sorted already).
    Path copy = dir.resolve("copy.parquet");
    Files.copy(first, copy);
    dev.featurebeam.io.sink.ParquetFooters.normalize(copy);
    assertThat("the footer is normalized", Files.readAllBytes(copy), equalTo(bytes));
  }

  /**
   * Snapshot mode over a store with 2025-01-08..10 (end_of_day): each row takes the latest
   * partition whose as-of instant is at or before it, never a later one.
   */
  @Test
  void snapshotTakesTheLatestPartitionAtOrBeforeTheInstant() throws IOException {
    Files.writeString(dir.resolve("spec.yaml"), SPEC);
    Files.writeString(dir.resolve("events.csv"), EVENTS);
    Path store = dir.resolve("store");
    int batch = FeatureBeamCli.run(new String[] {"batch", "--spec=" + dir.resolve("spec.yaml"),
        "--source=file:" + dir.resolve("events.csv"), "--out=" + store, "--from=2025-01-08",
        "--to=2025-01-10", "--runner=DirectRunner", "--progress=false"},
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()));
    assertThat(batch, equalTo(0));
    Path spine = spine("spine.csv", List.of(
        "u1,2025-01-10T12:00:00Z,a",
        "u1,2025-01-10T00:00:00Z,b",
        "u1,2025-01-09T23:59:59.999Z,c",
        "u1,2025-01-08T12:00:00Z,d"));
    Path out = dir.resolve("snap.parquet");
    CliRun r = run("--spine=" + spine, "--out=" + out, "--mode=snapshot", "--store=" + store);
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(lines(out), equalTo(List.of(
        // before the first published partition's instant (2025-01-09T00:00): nothing to take
        "u1,2025-01-08T12:00:00Z,d,,,,,",
        // 2025-01-08's partition (as of 2025-01-09T00:00) has no row for u1: its one event is at
        // that instant, so it counts from 2025-01-09's partition on
        "u1,2025-01-09T23:59:59.999Z,c,0,,,,false",
        // 2025-01-09's partition, as of exactly this instant
        "u1,2025-01-10T00:00:00Z,b,0,5.0,purchase,1,false",
        // still 2025-01-09's: 2025-01-10's is as of 2025-01-11T00:00, after the row's instant
        "u1,2025-01-10T12:00:00Z,a,0,5.0,purchase,1,false")));
    JsonNode report = new ObjectMapper().readTree(dir.resolve("snap.parquet.report.json").toFile());
    assertThat(report.at("/snapshot/rows_from_partition").asLong(), equalTo(2L));
    assertThat(report.at("/snapshot/rows_without_entity_row").asLong(), equalTo(1L));
    assertThat(report.at("/snapshot/rows_without_partition").asLong(), equalTo(1L));

    Path limited = dir.resolve("limited.parquet");
    r = run("--spine=" + spine, "--out=" + limited, "--mode=snapshot", "--store=" + store,
        "--maxStaleness=6h");
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(lines(limited), equalTo(List.of(
        "u1,2025-01-08T12:00:00Z,d,,,,,",
        "u1,2025-01-09T23:59:59.999Z,c,,,,,",
        "u1,2025-01-10T00:00:00Z,b,0,5.0,purchase,1,false",
        "u1,2025-01-10T12:00:00Z,a,,,,,")));
    // the exact values at the same instants differ where the snapshot is stale
    Path exact = dir.resolve("exact.parquet");
    assertThat(run("--spine=" + spine, "--out=" + exact).exit(), equalTo(0));
    assertThat(lines(exact).get(3), not(equalTo(lines(out).get(3))));
    assertThat(lines(exact).get(3), equalTo("u1,2025-01-10T12:00:00Z,a,1,15.0,purchase,0,true"));
  }

  // --- helpers

  private Path spine(String name, List<String> rows) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, "user_id,timestamp,label\n" + String.join("\n", rows) + "\n");
    return p;
  }

  static List<String> lines(Path parquet) {
    List<String> out = new ArrayList<>();
    for (GenericRecord r : PartitionReader.readFile(parquet)) {
      StringBuilder sb = new StringBuilder();
      for (Schema.Field f : r.getSchema().getFields()) {
        if (sb.length() > 0 || f.pos() > 0) {
          sb.append(',');
        }
        Object v = r.get(f.pos());
        sb.append(v == null ? "" : v.toString());
      }
      out.add(sb.toString());
    }
    return out;
  }

  private CliRun run(String... args) {
    return runOn("DirectRunner", args);
  }

  private CliRun runOn(String runner, String... args) {
    List<String> all = new ArrayList<>(List.of("training-set", "--spec=" + dir.resolve("spec.yaml"),
        "--runner=" + runner));
    boolean exact = true;
    for (String a : args) {
      exact &= !a.equals("--mode=snapshot");
    }
    if (exact) {
      all.add("--source=file:" + dir.resolve("events.csv"));
    }
    all.addAll(List.of(args));
    return CliRun.of(all.toArray(new String[0]));
  }
}
