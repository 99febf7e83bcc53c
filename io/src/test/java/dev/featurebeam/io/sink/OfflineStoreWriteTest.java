package dev.featurebeam.io.sink;

import static dev.featurebeam.io.sink.SinkFixtures.D1;
import static dev.featurebeam.io.sink.SinkFixtures.D2;
import static dev.featurebeam.io.sink.SinkFixtures.SPEC;
import static dev.featurebeam.io.sink.SinkFixtures.failed;
import static dev.featurebeam.io.sink.SinkFixtures.passed;
import static dev.featurebeam.io.sink.SinkFixtures.row;
import static dev.featurebeam.io.sink.SinkFixtures.run;
import static dev.featurebeam.io.sink.SinkFixtures.snapshot;
import static dev.featurebeam.io.sink.SinkFixtures.tree;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.testing.TestPipelineExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.SortedMap;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class OfflineStoreWriteTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> D1_USERS =
      List.of("u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "u10");
  private static final List<String> D2_USERS = List.of("u02", "u04", "u11", "u12", "u13");

  @TempDir Path tmp;

  private static List<Row> twoDates() {
    List<Row> rows = new ArrayList<>();
    D1_USERS.forEach(u -> rows.add(row(u, D1)));
    D2_USERS.forEach(u -> rows.add(row(u, D2)));
    return rows;
  }

  private static List<Row> shuffled(List<Row> rows, long seed) {
    List<Row> copy = new ArrayList<>(rows);
    Collections.shuffle(copy, new Random(seed));
    return copy;
  }

  @Test
  void writesShardedSortedPartitionsWithManifests(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    PCollection<PartitionOutcome> outcomes =
        SinkFixtures.write(
            p, root, List.of(D1, D2), 2, twoDates(), List.of(passed(D1, 10), passed(D2, 5)));
    Path p1 = OfflineStore.partitionDir(root, SPEC, D1);
    Path p2 = OfflineStore.partitionDir(root, SPEC, D2);
    PAssert.that(SinkFixtures.withoutSha(outcomes))
        .containsInAnyOrder(
            PartitionOutcome.of(D1, true, 10, p1.toString(), List.of()),
            PartitionOutcome.of(D2, true, 5, p2.toString(), List.of()));
    p.run().waitUntilFinish();

    // Exactly the published layout: no _staging, no _trash.
    assertThat(
        tree(root),
        contains(
            "user_features",
            "user_features/v1",
            "user_features/v1/as_of_date=2025-01-05",
            "user_features/v1/as_of_date=2025-01-05/_MANIFEST.json",
            "user_features/v1/as_of_date=2025-01-05/part-00000-of-00002.parquet",
            "user_features/v1/as_of_date=2025-01-05/part-00001-of-00002.parquet",
            "user_features/v1/as_of_date=2025-01-06",
            "user_features/v1/as_of_date=2025-01-06/_MANIFEST.json",
            "user_features/v1/as_of_date=2025-01-06/part-00000-of-00002.parquet",
            "user_features/v1/as_of_date=2025-01-06/part-00001-of-00002.parquet"));

    assertPartition(p1, D1_USERS, "2025-01-05", "2025-01-06T00:00:00Z");
    assertPartition(p2, D2_USERS, "2025-01-06", "2025-01-07T00:00:00Z");
    // Both shards hold rows for the 10-user date, so the sharding was exercised.
    assertThat(PartitionReader.readFile(p1.resolve("part-00000-of-00002.parquet")), not(empty()));
    assertThat(PartitionReader.readFile(p1.resolve("part-00001-of-00002.parquet")), not(empty()));
    assertThat(OfflineStore.readRowCount(p1), equalTo(OptionalLong.of(10)));
    assertParquetFooter(p1.resolve("part-00000-of-00002.parquet"));
  }

  /** SNAPPY, Parquet DATE / TIMESTAMP(MILLIS) columns, and nothing run-specific in the footer. */
  private static void assertParquetFooter(Path file) throws Exception {
    try (ParquetFileReader reader =
        ParquetFileReader.open(
            HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(file.toUri()), new Configuration()))) {
      FileMetaData meta = reader.getFooter().getFileMetaData();
      assertThat(meta.getCreatedBy(), startsWith("parquet-mr version "));
      assertThat(
          meta.getKeyValueMetaData().keySet(),
          containsInAnyOrder("parquet.avro.schema", "writer.model.name"));
      MessageType schema = meta.getSchema();
      assertThat(schema.getName(), is("user_features"));
      assertThat(schema.getType("user_id").isRepetition(Type.Repetition.REQUIRED), is(true));
      assertThat(
          schema.getType("as_of_date").getLogicalTypeAnnotation(),
          is(LogicalTypeAnnotation.dateType()));
      assertThat(schema.getType("txn_count_7d").isRepetition(Type.Repetition.OPTIONAL), is(true));
      assertThat(
          schema.getType("last_ts").getLogicalTypeAnnotation(),
          is(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MILLIS)));
      for (BlockMetaData block : reader.getFooter().getBlocks()) {
        for (ColumnChunkMetaData column : block.getColumns()) {
          assertThat(column.getCodec(), is(CompressionCodecName.SNAPPY));
        }
      }
    }
  }

  private static void assertPartition(Path dir, List<String> users, String date, String instant)
      throws Exception {
    JsonNode m = JSON.readTree(dir.resolve(OfflineStore.MANIFEST).toFile());
    assertThat(
        iterToList(m.fieldNames()),
        contains(
            "feature_set",
            "version",
            "as_of_date",
            "as_of_instant",
            "row_count",
            "files",
            "schema",
            "spec_sha256",
            "lineage",
            "quality",
            "tool_version"));
    assertThat(m.get("feature_set").asText(), is("user_features"));
    assertThat(m.get("version").asInt(), is(1));
    assertThat(m.get("as_of_date").asText(), is(date));
    assertThat(m.get("as_of_instant").asText(), is(instant));
    assertThat(m.get("row_count").asLong(), is((long) users.size()));
    assertThat(m.get("spec_sha256").asText(), is(SPEC.sha256()));
    assertThat(m.get("lineage").toString(), is("{\"source\":\"file:events.csv\",\"read\":42}"));
    assertThat(m.get("tool_version").asText(), is("0.1.0-test"));
    assertThat(
        m.get("quality").toString(),
        is("[{\"check\":\"user_id not_null\",\"passed\":true,\"detail\":\"0 rows fail\"}]"));
    assertThat(
        m.get("schema").toString(),
        is(
            "[{\"name\":\"user_id\",\"type\":\"string\"},{\"name\":\"as_of_date\",\"type\":\"date\"},"
                + "{\"name\":\"txn_count_7d\",\"type\":\"long\"},{\"name\":\"avg_amount_7d\",\"type\":\"double\"},"
                + "{\"name\":\"active_24h\",\"type\":\"boolean\"},{\"name\":\"days_since_last\",\"type\":\"int\"},"
                + "{\"name\":\"last_status\",\"type\":\"string\"},{\"name\":\"last_ts\",\"type\":\"timestamp-millis\"}]"));

    List<String> seen = new ArrayList<>();
    JsonNode files = m.get("files");
    assertThat(files.size(), is(2));
    for (int shard = 0; shard < 2; shard++) {
      String name = OfflineStore.fileName(shard, 2);
      Path file = dir.resolve(name);
      List<String> entities =
          PartitionReader.readFile(file).stream()
              .map(r -> r.get("user_id").toString())
              .collect(Collectors.toList());
      List<String> sorted = new ArrayList<>(entities);
      Collections.sort(sorted);
      assertThat("sorted by entity in " + file, entities, equalTo(sorted));
      int s = shard;
      assertThat(
          entities.stream().map(e -> OfflineStore.shardOf(e, 2)).collect(Collectors.toList()),
          everyItem(is(s)));
      JsonNode f = files.get(shard);
      assertThat(f.get("name").asText(), is(name));
      assertThat(f.get("rows").asLong(), is((long) entities.size()));
      assertThat(f.get("sha256").asText(), is(OfflineStore.sha256(file)));
      seen.addAll(entities);
    }
    assertThat(seen, containsInAnyOrder(users.toArray()));

    // Values survive the round trip, with Parquet DATE and timestamp-millis columns.
    GenericRecord r =
        PartitionReader.read(dir).stream()
            .filter(x -> x.get("user_id").toString().equals(users.get(0)))
            .findFirst()
            .orElseThrow();
    long day = java.time.LocalDate.parse(date).toEpochDay();
    Row expected = row(users.get(0), day);
    assertThat(r.get("as_of_date"), is((int) day));
    assertThat(r.get("txn_count_7d"), is(expected.getInt64("txn_count_7d")));
    assertThat(r.get("avg_amount_7d"), is(expected.getDouble("avg_amount_7d")));
    assertThat(r.get("last_ts"), is(expected.getDateTime("last_ts").getMillis()));
  }

  @Test
  void rerunsAndShuffledInputWriteIdenticalBytes(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    List<Long> days = List.of(D1, D2);
    List<Row> rows = twoDates();
    SinkFixtures.write(p, root, days, 2, rows, List.of(passed(D1, 10), passed(D2, 5)));
    p.run().waitUntilFinish();
    Map<String, byte[]> first = snapshot(root);
    assertThat(first.size(), is(6));

    // Rerun into the same root: shuffled rows and verdicts, other parallelism.
    run(4, root, days, 2, shuffled(rows, 7), List.of(passed(D2, 5), passed(D1, 10)));
    assertSameBytes(first, snapshot(root));

    // A fresh root, yet another order: the same bytes again.
    Path other = tmp.resolve("other");
    run(1, other, days, 2, shuffled(rows, 99), List.of(passed(D1, 10), passed(D2, 5)));
    assertSameBytes(first, snapshot(other));
  }

  private static long storeCounter(org.apache.beam.sdk.PipelineResult result, String name) {
    long sum = 0;
    for (org.apache.beam.sdk.metrics.MetricResult<Long> c : result.metrics()
        .queryMetrics(org.apache.beam.sdk.metrics.MetricsFilter.builder()
            .addNameFilter(org.apache.beam.sdk.metrics.MetricNameFilter.named(
                StoreCounters.NAMESPACE, name))
            .build())
        .getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  private static void assertSameBytes(Map<String, byte[]> expected, Map<String, byte[]> actual) {
    assertThat(actual.keySet(), equalTo(expected.keySet()));
    for (String name : expected.keySet()) {
      assertThat("bytes of " + name, Arrays.equals(actual.get(name), expected.get(name)), is(true));
    }
  }

  @Test
  void rowsBeyondOneBatchAreAllWrittenSorted(TestPipeline p) throws Exception {
    // More rows than WriteStagedPartitions.BATCH_ROWS for one date: several batches per slot.
    int users = WriteStagedPartitions.BATCH_ROWS * 2 + 500;
    List<String> names = new ArrayList<>();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      String user = String.format("u%05d", i);
      names.add(user);
      rows.add(row(user, D1));
    }
    Path root = tmp.resolve("out");
    SinkFixtures.write(
        p, root, List.of(D1), 1, shuffled(rows, 3), List.of(passed(D1, users)));
    p.run().waitUntilFinish();

    Path dir = OfflineStore.partitionDir(root, SPEC, D1);
    List<String> written =
        PartitionReader.read(dir).stream()
            .map(r -> r.get("user_id").toString())
            .collect(Collectors.toList());
    assertThat(written, equalTo(names)); // every row, once, sorted by entity
    assertThat(OfflineStore.readRowCount(dir), equalTo(OptionalLong.of(users)));
  }

  @Test
  void dateWithoutRowsGetsAnEmptyPublishedPartition(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    List<Row> rows = List.of(row("u1", D1), row("u2", D1));
    PCollection<PartitionOutcome> outcomes =
        SinkFixtures.write(
            p, root, List.of(D1, D2), 1, rows, List.of(passed(D1, 2), passed(D2, 0)));
    Path empty = OfflineStore.partitionDir(root, SPEC, D2);
    PAssert.that(SinkFixtures.withoutSha(outcomes))
        .containsInAnyOrder(
            PartitionOutcome.of(
                D1, true, 2, OfflineStore.partitionDir(root, SPEC, D1).toString(), List.of()),
            PartitionOutcome.of(D2, true, 0, empty.toString(), List.of()));
    p.run().waitUntilFinish();

    assertThat(tree(empty), contains("_MANIFEST.json", "part-00000-of-00001.parquet"));
    assertThat(PartitionReader.read(empty), empty());
    assertThat(OfflineStore.readRowCount(empty), equalTo(OptionalLong.of(0)));
    JsonNode files = JSON.readTree(empty.resolve(OfflineStore.MANIFEST).toFile()).get("files");
    assertThat(files.get(0).get("rows").asLong(), is(0L));
    assertThat(
        files.get(0).get("sha256").asText(),
        is(OfflineStore.sha256(empty.resolve("part-00000-of-00001.parquet"))));
    // The empty file still carries the schema.
    assertThat(
        PartitionReader.schema(empty.resolve("part-00000-of-00001.parquet")).getFields().size(),
        is(8));
  }

  @Test
  void rejectedPartitionLeavesThePublishedOneInPlace(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    List<Long> days = List.of(D1, D2);
    SinkFixtures.write(p, root, days, 2, twoDates(), List.of(passed(D1, 10), passed(D2, 5)));
    p.run().waitUntilFinish();
    Path p1 = OfflineStore.partitionDir(root, SPEC, D1);
    Map<String, byte[]> before = snapshot(p1);

    // A second run with other rows whose verdict fails for D1 but passes for D2.
    List<Row> changed =
        List.of(row("u01", D1, 1L, 99.0, true, 0, "x", null), row("u99", D1), row("u11", D2));
    org.apache.beam.sdk.Pipeline second = SinkFixtures.newPipeline(2);
    PCollection<PartitionOutcome> outcomes =
        SinkFixtures.write(second, root, days, 2, changed, List.of(failed(D1, 2), passed(D2, 1)));
    PAssert.that(SinkFixtures.withoutSha(outcomes))
        .containsInAnyOrder(
            PartitionOutcome.of(
                D1,
                false,
                2,
                p1.toString(),
                List.of(
                    "check avg_amount_7d between [0, 10] failed on as_of_date=2025-01-05: 2 rows"
                        + " fail, e.g. u1, u2")),
            PartitionOutcome.of(
                D2, true, 1, OfflineStore.partitionDir(root, SPEC, D2).toString(), List.of()));
    org.apache.beam.sdk.PipelineResult result = second.run();
    result.waitUntilFinish();
    // What the progress line reads while a run goes on: 2 dates x 2 shards staged, 1 of each fate.
    assertThat(storeCounter(result, StoreCounters.FILES_STAGED), is(4L));
    assertThat(storeCounter(result, StoreCounters.PARTITIONS_PUBLISHED), is(1L));
    assertThat(storeCounter(result, StoreCounters.PARTITIONS_REJECTED), is(1L));

    assertSameBytes(before, snapshot(p1));
    assertThat(
        OfflineStore.readRowCount(OfflineStore.partitionDir(root, SPEC, D2)),
        equalTo(OptionalLong.of(1)));
    assertThat(
        tree(root.resolve("user_features/v1")),
        contains(
            "as_of_date=2025-01-05",
            "as_of_date=2025-01-05/_MANIFEST.json",
            "as_of_date=2025-01-05/part-00000-of-00002.parquet",
            "as_of_date=2025-01-05/part-00001-of-00002.parquet",
            "as_of_date=2025-01-06",
            "as_of_date=2025-01-06/_MANIFEST.json",
            "as_of_date=2025-01-06/part-00000-of-00002.parquet",
            "as_of_date=2025-01-06/part-00001-of-00002.parquet"));

    // A date without a verdict is not published either.
    run(1, root, days, 2, changed, List.of(passed(D2, 1)));
    assertSameBytes(before, snapshot(p1));
    assertThat(
        tree(root.resolve("user_features/v1")).stream().anyMatch(s -> s.startsWith("_")),
        is(false));

    // When the verdict passes, the new rows replace the old partition wholesale.
    run(1, root, days, 2, changed, List.of(passed(D1, 2), passed(D2, 1)));
    assertThat(OfflineStore.readRowCount(p1), equalTo(OptionalLong.of(2)));
    assertThat(
        PartitionReader.read(p1).stream()
            .map(r -> r.get("user_id").toString())
            .sorted()
            .collect(Collectors.toList()),
        contains("u01", "u99"));
    assertThat(
        tree(root.resolve("user_features/v1")).stream().anyMatch(s -> s.startsWith("_")),
        is(false));
  }

  /**
   * With checks instead of verdicts, the store judges the rows it writes: statistics per file,
   * merged over the shards of a date, judged over all dates (each date sees the one before).
   */
  @Test
  void checksJudgeTheRowsTheStoreWrites(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    long d3 = D2 + 1;
    List<Row> rows = new ArrayList<>(twoDates()); // D1: 10 rows, D2: 5, d3: none
    rows.add(row("u77", D1, 1L, 111.5, true, 0, "x", null)); // avg over 100: fails D1
    PCollection<PartitionOutcome> outcomes =
        p.apply(Create.of(rows).withRowSchema(SPEC.outputSchema()))
            .apply(
                OfflineStoreWrite.to(root.toString(), SPEC)
                    .forAsOfEpochDays(List.of(D1, D2, d3))
                    .withShards(3)
                    .withChecks(new AvgAtMostHundred()));
    PAssert.that(SinkFixtures.withoutSha(outcomes))
        .containsInAnyOrder(
            PartitionOutcome.of(D1, false, 11, OfflineStore.partitionDir(root, SPEC, D1).toString(),
                List.of("check avg at most 100 failed on as_of_date=2025-01-05:"
                    + " 11 rows, 1 over 100; previous date: none")),
            PartitionOutcome.of(D2, true, 5, OfflineStore.partitionDir(root, SPEC, D2).toString(),
                List.of()),
            PartitionOutcome.of(d3, true, 0, OfflineStore.partitionDir(root, SPEC, d3).toString(),
                List.of()));
    p.run().waitUntilFinish();

    assertThat(Files.exists(OfflineStore.partitionDir(root, SPEC, D1)), is(false));
    JsonNode quality =
        JSON.readTree(OfflineStore.partitionDir(root, SPEC, d3).resolve(OfflineStore.MANIFEST)
                .toFile())
            .get("quality");
    assertThat(quality.get(0).get("detail").asText(),
        is("0 rows, 0 over 100; previous date: 5 rows"));
  }

  /** Fails a date with a row whose avg_amount_7d is over 100; counts rows per date. */
  static final class AvgAtMostHundred implements PartitionChecks<long[]> {
    @Override
    public long[] create() {
      return new long[2];
    }

    @Override
    public void add(long[] stats, Row row) {
      stats[0]++;
      Double avg = row.getDouble("avg_amount_7d");
      if (avg != null && avg > 100) {
        stats[1]++;
      }
    }

    @Override
    public void merge(long[] into, long[] other) {
      into[0] += other[0];
      into[1] += other[1];
    }

    @Override
    public Coder<long[]> statsCoder() {
      return new AtomicCoder<long[]>() {
        @Override
        public void encode(long[] value, OutputStream out) throws IOException {
          VarLongCoder.of().encode(value[0], out);
          VarLongCoder.of().encode(value[1], out);
        }

        @Override
        public long[] decode(InputStream in) throws IOException {
          return new long[] {VarLongCoder.of().decode(in), VarLongCoder.of().decode(in)};
        }
      };
    }

    @Override
    public List<PartitionVerdict> judge(SortedMap<Long, long[]> byDate) {
      List<PartitionVerdict> verdicts = new ArrayList<>();
      String previous = "none";
      for (long day = byDate.firstKey(); day <= byDate.lastKey(); day++) {
        long[] stats = byDate.getOrDefault(day, create());
        String detail = stats[0] + " rows, " + stats[1] + " over 100; previous date: " + previous;
        verdicts.add(PartitionVerdict.of(day, stats[0],
            List.of(CheckOutcome.of("avg at most 100", stats[1] == 0, detail))));
        previous = stats[0] + " rows";
      }
      return verdicts;
    }
  }

  /**
   * A date with a value its column cannot hold fails the built-in check, naming the entity, the
   * feature and why; its published partition stays. Other dates are published, and each outcome
   * names the manifest the store now holds.
   */
  @Test
  void aDateWithAnInvalidValueIsNotPublished(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    SinkFixtures.run(1, root, List.of(D1), 1, List.of(row("u01", D1)), List.of(passed(D1, 1)));
    Path p1 = OfflineStore.partitionDir(root, SPEC, D1);
    Map<String, byte[]> before = snapshot(p1);

    PCollection<dev.featurebeam.model.InvalidValue> invalid = p.apply("Invalid", Create.of(
        dev.featurebeam.model.InvalidValue.of(D1, "u07", "avg_amount_7d",
            "double average is not finite"),
        dev.featurebeam.model.InvalidValue.of(D1, "u03", "txn_count_7d", "int64 sum overflows")));
    PCollection<PartitionOutcome> outcomes =
        p.apply("Rows", Create.of(twoDates()).withRowSchema(SPEC.outputSchema()))
            .apply(OfflineStoreWrite.to(root.toString(), SPEC)
                .forAsOfEpochDays(List.of(D1, D2))
                .withChecks(new SinkFixtures.FixedVerdicts(List.of(passed(D1, 10), passed(D2, 5))))
                .withInvalidValues(invalid));
    Path p2 = OfflineStore.partitionDir(root, SPEC, D2);
    PAssert.that(SinkFixtures.withoutSha(outcomes))
        .containsInAnyOrder(
            PartitionOutcome.of(D1, false, 10, p1.toString(), List.of(
                "check values_representable failed on as_of_date=2025-01-05: 2 values cannot be"
                    + " stored in the partition's columns, e.g. u03 txn_count_7d: int64 sum"
                    + " overflows; u07 avg_amount_7d: double average is not finite")),
            PartitionOutcome.of(D2, true, 5, p2.toString(), List.of()));
    PAssert.that(outcomes).satisfies(all -> {
      for (PartitionOutcome o : all) {
        assertThat(o.manifestSha256(), is(o.published()
            ? OfflineStore.manifestSha256(Path.of(o.path())).orElseThrow() : ""));
      }
      return null;
    });
    p.run().waitUntilFinish();
    assertSameBytes(before, snapshot(p1));
  }

  @Test
  void printsAPartitionAsCsv(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    List<Row> rows =
        List.of(
            row("u2", D1, 0L, null, false, null, null, null),
            row("u1", D1, 3L, 20.0, true, 0, "success, maybe", "2025-01-05T10:00:00Z"),
            row("u3", D1, 1L, 12.5, true, 4, "failed", "2025-01-01T23:59:59.250Z"));
    SinkFixtures.write(p, root, List.of(D1), 1, rows, List.of(passed(D1, 3)));
    p.run().waitUntilFinish();

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PartitionReader.printCsv(
        OfflineStore.partitionDir(root, SPEC, D1),
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    assertThat(
        bytes.toString(StandardCharsets.UTF_8),
        is(
            "user_id,as_of_date,txn_count_7d,avg_amount_7d,active_24h,days_since_last,last_status,last_ts\n"
                + "u1,2025-01-05,3,20.0,true,0,\"success, maybe\",2025-01-05T10:00:00Z\n"
                + "u2,2025-01-05,0,,false,,,\n"
                + "u3,2025-01-05,1,12.5,true,4,failed,2025-01-01T23:59:59.250Z\n"));
  }

  @Test
  void manifestIsPrettyPrintedWithFixedLayout(TestPipeline p) throws Exception {
    Path root = tmp.resolve("out");
    SinkFixtures.write(p, root, List.of(D1), 1, List.of(), List.of(passed(D1, 0)));
    p.run().waitUntilFinish();
    Path dir = OfflineStore.partitionDir(root, SPEC, D1);
    String manifest = Files.readString(dir.resolve(OfflineStore.MANIFEST));
    String sha = OfflineStore.sha256(dir.resolve("part-00000-of-00001.parquet"));
    assertThat(
        manifest,
        is(
            String.join(
                "\n",
                "{",
                "  \"feature_set\": \"user_features\",",
                "  \"version\": 1,",
                "  \"as_of_date\": \"2025-01-05\",",
                "  \"as_of_instant\": \"2025-01-06T00:00:00Z\",",
                "  \"row_count\": 0,",
                "  \"files\": [",
                "    {",
                "      \"name\": \"part-00000-of-00001.parquet\",",
                "      \"rows\": 0,",
                "      \"sha256\": \"" + sha + "\"",
                "    }",
                "  ],",
                "  \"schema\": [",
                "    {",
                "      \"name\": \"user_id\",",
                "      \"type\": \"string\"",
                "    },",
                "    {",
                "      \"name\": \"as_of_date\",",
                "      \"type\": \"date\"",
                "    },",
                "    {",
                "      \"name\": \"txn_count_7d\",",
                "      \"type\": \"long\"",
                "    },",
                "    {",
                "      \"name\": \"avg_amount_7d\",",
                "      \"type\": \"double\"",
                "    },",
                "    {",
                "      \"name\": \"active_24h\",",
                "      \"type\": \"boolean\"",
                "    },",
                "    {",
                "      \"name\": \"days_since_last\",",
                "      \"type\": \"int\"",
                "    },",
                "    {",
                "      \"name\": \"last_status\",",
                "      \"type\": \"string\"",
                "    },",
                "    {",
                "      \"name\": \"last_ts\",",
                "      \"type\": \"timestamp-millis\"",
                "    }",
                "  ],",
                "  \"spec_sha256\": \"" + SPEC.sha256() + "\",",
                "  \"lineage\": {",
                "    \"source\": \"file:events.csv\",",
                "    \"read\": 42",
                "  },",
                "  \"quality\": [",
                "    {",
                "      \"check\": \"user_id not_null\",",
                "      \"passed\": true,",
                "      \"detail\": \"0 rows fail\"",
                "    }",
                "  ],",
                "  \"tool_version\": \"0.1.0-test\"",
                "}",
                "")));
  }

  @Test
  void shardOfIsFnv1aOverUtf8() {
    // Published FNV-1a 32-bit vectors: "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
    assertThat(OfflineStore.shardOf("", 1 << 30), is(0x811c9dc5 & ((1 << 30) - 1)));
    assertThat(OfflineStore.shardOf("a", 1 << 30), is(0xe40c292c & ((1 << 30) - 1)));
    assertThat(OfflineStore.shardOf("foobar", 1 << 30), is(0xbf9cf968 & ((1 << 30) - 1)));
    assertThat(OfflineStore.shardOf("foobar", 7), is(Integer.remainderUnsigned(0xbf9cf968, 7)));
  }

  @Test
  void layoutHelpers() {
    Path root = Path.of("/data/store");
    assertThat(
        OfflineStore.partitionDir(root, SPEC, D1).toString(),
        is("/data/store/user_features/v1/as_of_date=2025-01-05"));
    assertThat(OfflineStore.fileName(3, 12), is("part-00003-of-00012.parquet"));
    assertThat(OfflineStore.readRowCount(root.resolve("missing")), equalTo(OptionalLong.empty()));
    assertThat(SPEC.outputSchema().getFieldCount(), greaterThan(2));
  }

  private static <T> List<T> iterToList(Iterator<T> it) {
    List<T> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}
