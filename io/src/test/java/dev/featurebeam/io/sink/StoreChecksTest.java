package dev.featurebeam.io.sink;

import static dev.featurebeam.io.sink.SinkFixtures.D1;
import static dev.featurebeam.io.sink.SinkFixtures.D2;
import static dev.featurebeam.io.sink.SinkFixtures.row;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecChecks;
import dev.featurebeam.spec.SpecParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's one quality gate: without {@code withChecks} it runs the spec's checks, and reads
 * the baselines of {@code max_row_count_change} from what it publishes.
 */
class StoreChecksTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** SinkFixtures.SPEC with quality checks; the output schema is the same. */
  static final FeatureSpec CHECKED = SpecParser.parse(SinkFixtures.SPEC_TEXT
      + "quality:\n"
      + "  - {column: avg_amount_7d, not_null: true}\n"
      + "  - {max_row_count_change: 0.2}\n");

  @TempDir Path tmp;

  private static List<Row> rows(long day, int n) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(row(String.format("u%02d", i), day));
    }
    return rows;
  }

  private static final Queue<PartitionOutcome> SEEN = new ConcurrentLinkedQueue<>();

  /** Runs the store with its default checks over {@code rows} for {@code day}; its outcomes. */
  private static List<PartitionOutcome> write(Path root, long day, List<Row> rows, int shards) {
    SEEN.clear();
    Pipeline p = SinkFixtures.newPipeline(2);
    p.apply(Create.of(rows).withRowSchema(CHECKED.outputSchema()))
        .apply(OfflineStoreWrite.to(root.toString(), CHECKED)
            .forAsOfEpochDays(List.of(day))
            .withShards(shards))
        .apply(ParDo.of(new DoFn<PartitionOutcome, Void>() {
          @ProcessElement
          public void process(@Element PartitionOutcome o) {
            SEEN.add(o);
          }
        }));
    p.run().waitUntilFinish();
    return List.copyOf(SEEN);
  }

  private static String quality(Path root, long day) throws Exception {
    JsonNode m = JSON.readTree(
        OfflineStore.partitionDir(root, CHECKED, day).resolve(OfflineStore.MANIFEST).toFile());
    List<String> checks = new ArrayList<>();
    m.get("quality").forEach(c -> checks.add(c.get("check").asText() + ": "
        + c.get("passed").asBoolean() + " (" + c.get("detail").asText() + ")"));
    return String.join(" | ", checks);
  }

  @Test
  void theSpecsChecksJudgeEachRunAgainstWhatTheStorePublishes() throws Exception {
    Path root = tmp.resolve("out");
    long d0 = D1 - 1;
    // An empty published partition is no baseline: the next run finds nothing earlier.
    assertThat(write(root, d0, List.of(), 1).get(0).published(), is(true));
    assertThat(write(root, D1, rows(D1, 10), 3).get(0).published(), is(true));
    assertThat(quality(root, D1), equalTo("avg_amount_7d not_null: true (0 of 10 rows fail)"
        + " | max_row_count_change 0.2: true (10 rows; no earlier published partition to compare"
        + " with)"));

    // Half the rows of the partition before it: rejected, and the published one is untouched.
    PartitionOutcome dropped = write(root, D2, rows(D2, 5), 2).get(0);
    assertThat(dropped.published(), is(false));
    assertThat(dropped.failures(), contains("check max_row_count_change 0.2 failed on"
        + " as_of_date=2025-01-06: 5 rows vs 10 on 2025-01-05: change 0.500 (limit 0.2)"));
    assertThat(Files.exists(OfflineStore.partitionDir(root, CHECKED, D2)), is(false));

    assertThat(write(root, D2, rows(D2, 11), 2).get(0).published(), is(true));
    assertThat(quality(root, D2), equalTo("avg_amount_7d not_null: true (0 of 11 rows fail)"
        + " | max_row_count_change 0.2: true (11 rows vs 10 on 2025-01-05: change 0.100 (limit"
        + " 0.2))"));
    assertThat(OfflineStore.publishedRowCounts(OfflineStore.versionDir(root, CHECKED)),
        equalTo(Map.of(D1, 10L, D2, 11L)));
  }

  @Test
  void rowChecksNameTheSmallestFailingEntitiesAcrossShards() {
    Path root = tmp.resolve("out");
    List<Row> rows = new ArrayList<>(rows(D1, 10));
    for (String u : List.of("x9", "x3", "x7", "x1", "x5", "x8")) {
      rows.add(row(u, D1, 1L, null, true, 0, "s", null));
    }
    PartitionOutcome o = write(root, D1, rows, 4).get(0);
    assertThat(o.published(), is(false));
    assertThat(o.failures(), contains("check avg_amount_7d not_null failed on"
        + " as_of_date=2025-01-05: 6 of 16 rows fail, e.g. x1, x3, x5, x7, x8"));
  }

  @Test
  void withChecksReplacesTheSpecsAndDisplayDataSaysWhich() {
    OfflineStoreWrite byDefault =
        OfflineStoreWrite.to(tmp.toString(), CHECKED).forAsOfEpochDays(List.of(D1));
    assertThat(items(byDefault), hasItem("checks=the spec's quality: avg_amount_7d not_null;"
        + " max_row_count_change 0.2"));
    OfflineStoreWrite replaced = byDefault.withChecks(new SinkFixtures.FixedVerdicts(List.of()));
    assertThat(items(replaced), hasItem("checks=" + SinkFixtures.FixedVerdicts.class.getName()));
    assertThat(items(replaced), hasItem("shards=1"));
    assertThat(items(replaced), hasItem("asOfDates=2025-01-05..2025-01-05 (1 dates)"));
  }

  @Test
  void configurationIsCheckedWhenGiven() {
    OfflineStoreWrite w = OfflineStoreWrite.to(tmp.toString(), CHECKED);
    List<Runnable> bad = List.of(
        () -> OfflineStoreWrite.to("", CHECKED),
        () -> OfflineStoreWrite.to(tmp.toString(), null),
        () -> w.forAsOfEpochDays(List.of()),
        () -> w.forAsOfEpochDays(null),
        () -> w.withShards(0),
        () -> w.withShards(100_000),
        () -> w.withLineage("[1]"),
        () -> w.withToolVersion(""),
        () -> w.withChecks(null),
        () -> w.withInvalidValues(null),
        () -> w.withRunId("a/b"));
    for (Runnable r : bad) {
      assertThrows(IllegalArgumentException.class, r::run);
    }
    Pipeline p = SinkFixtures.newPipeline(1);
    PCollection<Row> rows = p.apply(Create.of(rows(D1, 1)).withRowSchema(CHECKED.outputSchema()));
    IllegalArgumentException noDates = assertThrows(IllegalArgumentException.class,
        () -> rows.apply(w));
    assertThat(noDates.getMessage(), containsString("call forAsOfEpochDays"));
  }

  @Test
  void stagesValidateAndDescribeThemselves() throws Exception {
    StagingLayout staging = new StagingLayout(tmp.toString(), "fs", 1, "run1");
    SpecChecks checks = SpecChecks.of(CHECKED, List.of(D1), SpecChecks.Baselines.of(Map.of()));
    assertThrows(IllegalArgumentException.class,
        () -> WriteStagedPartitions.of(staging, CHECKED, List.of(), checks));
    assertThrows(NullPointerException.class,
        () -> WriteStagedPartitions.of(staging, CHECKED, List.of(D1), null));
    assertThrows(IllegalArgumentException.class,
        () -> WriteStagedPartitions.of(staging, CHECKED, List.of(D1), checks).withShards(0));
    assertThrows(NullPointerException.class, () -> JudgePartitions.by(null));
    assertThrows(NullPointerException.class, () -> RemoveStaging.of(null));
    assertThat(items(WriteStagedPartitions.of(staging, CHECKED, List.of(D1, D2), checks)
        .withShards(3)), hasItem("shards=3"));
    assertThat(items(JudgePartitions.by(checks)), hasItem("invalidValues=false"));
    assertThat(items(RemoveStaging.of(staging)),
        hasItem("stagingDir=" + staging.runDir()));

    ShardFile file = ShardFile.of("part-00000-of-00001.parquet", 3, "ab", new byte[] {1, 2});
    ShardFile same = ShardFile.of("part-00000-of-00001.parquet", 3, "ab", new byte[] {1, 2});
    for (ShardFile f : List.of(file, ShardFile.of("", 0, "", new byte[0]))) {
      CoderProperties.coderDecodeEncodeEqual(ShardFile.ShardFileCoder.of(), f);
      CoderProperties.structuralValueDecodeEncodeEqual(ShardFile.ShardFileCoder.of(), f);
    }
    CoderProperties.coderDeterministic(ShardFile.ShardFileCoder.of(), file, same);
    CoderProperties.coderConsistentWithEquals(ShardFile.ShardFileCoder.of(), file, same);
    ShardFile.ShardFileCoder.of().verifyDeterministic();
  }

  private static List<String> items(PTransform<?, ?> t) {
    return DisplayData.from(t).items().stream()
        .map(i -> i.getKey() + "=" + i.getValue())
        .collect(Collectors.toList());
  }
}
