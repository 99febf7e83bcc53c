package dev.featurebeam.io.sink;

import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/** A spec whose output has every column type the offline store writes, and helpers around it. */
final class SinkFixtures {
  static final String SPEC_TEXT =
      String.join(
          "\n",
          "feature_set: user_features",
          "version: 1",
          "entity: user_id",
          "timestamp: ts",
          "source_schema:",
          "  user_id: {type: string, required: true}",
          "  amount:  {type: double}",
          "  status:  {type: string}",
          "  ts:      {type: timestamp, required: true}",
          "features:",
          "  - {name: txn_count_7d,    agg: count, window: 7d}",
          "  - {name: avg_amount_7d,   agg: avg, field: amount, window: 7d}",
          "  - {name: active_24h,      agg: exists, window: 24h}",
          "  - {name: days_since_last, agg: days_since_last}",
          "  - {name: last_status,     agg: last, field: status}",
          "  - {name: last_ts,         agg: last, field: ts}",
          "");

  static final FeatureSpec SPEC = SpecParser.parse(SPEC_TEXT);

  static final long D1 = LocalDate.parse("2025-01-05").toEpochDay();
  static final long D2 = LocalDate.parse("2025-01-06").toEpochDay();

  private SinkFixtures() {}

  static Row row(
      String entity,
      long day,
      Long count,
      Double avg,
      Boolean active,
      Integer daysSince,
      String status,
      String lastTs) {
    return Row.withSchema(SPEC.outputSchema())
        .addValues(
            entity,
            LocalDate.ofEpochDay(day),
            count,
            avg,
            active,
            daysSince,
            status,
            lastTs == null ? null : Instant.parse(lastTs))
        .build();
  }

  /** A full row whose values derive from the entity and date. */
  static Row row(String entity, long day) {
    int n = entity.hashCode() & 0xff;
    return row(
        entity,
        day,
        (long) n,
        n / 4.0,
        n % 2 == 0,
        n % 7,
        "s" + n,
        "2025-01-0" + (n % 5 + 1) + "T10:00:00Z");
  }

  static PartitionVerdict passed(long day, long rows) {
    return PartitionVerdict.of(
        day, rows, List.of(CheckOutcome.of("user_id not_null", true, "0 rows fail")));
  }

  static PartitionVerdict failed(long day, long rows) {
    return PartitionVerdict.of(
        day,
        rows,
        List.of(
            CheckOutcome.of("user_id not_null", true, "0 rows fail"),
            CheckOutcome.of("avg_amount_7d between [0, 10]", false, "2 rows fail, e.g. u1, u2")));
  }

  static Pipeline newPipeline(int parallelism) {
    return Pipeline.create(
        PipelineOptionsFactory.fromArgs(
                "--runner=DirectRunner", "--targetParallelism=" + parallelism)
            .create());
  }

  /**
   * Applies the offline store write of {@code rows} to {@code p}, judged by {@code verdicts}: the
   * dates' verdicts whatever the rows (a date without one is not published).
   */
  static PCollection<PartitionOutcome> write(
      Pipeline p,
      Path root,
      List<Long> days,
      int shards,
      List<Row> rows,
      List<PartitionVerdict> verdicts) {
    return p.apply("Rows", Create.of(rows).withRowSchema(SPEC.outputSchema()))
        .apply(
            "OfflineStoreWrite",
            OfflineStoreWrite.to(root.toString(), SPEC)
                .forAsOfEpochDays(days)
                .withShards(shards)
                .withLineage("{\"source\":\"file:events.csv\",\"read\":42}")
                .withToolVersion("0.1.0-test")
                .withChecks(new FixedVerdicts(verdicts)));
  }

  /** The outcomes with their manifest sha256 blanked, to compare with expected ones. */
  static PCollection<PartitionOutcome> withoutSha(PCollection<PartitionOutcome> outcomes) {
    return outcomes.apply("WithoutSha", MapElements.into(TypeDescriptor.of(PartitionOutcome.class))
        .via(o -> PartitionOutcome.of(o.asOfEpochDay(), o.published(), o.rowCount(), o.path(),
            o.failures())));
  }

  /** Checks that give fixed verdicts, whatever the rows. */
  static final class FixedVerdicts implements PartitionChecks<Void> {
    private final List<PartitionVerdict> verdicts;

    FixedVerdicts(List<PartitionVerdict> verdicts) {
      this.verdicts = List.copyOf(verdicts);
    }

    @Override
    public Void create() {
      return null;
    }

    @Override
    public void add(Void stats, Row row) {}

    @Override
    public void merge(Void into, Void other) {}

    @Override
    public Coder<Void> statsCoder() {
      return VoidCoder.of();
    }

    @Override
    public List<PartitionVerdict> judge(SortedMap<Long, Void> byDate) {
      return verdicts;
    }
  }

  /** Runs a write in a fresh pipeline. */
  static void run(
      int parallelism,
      Path root,
      List<Long> days,
      int shards,
      List<Row> rows,
      List<PartitionVerdict> verdicts) {
    Pipeline p = newPipeline(parallelism);
    write(p, root, days, shards, rows, verdicts);
    p.run().waitUntilFinish();
  }

  /** Every file under {@code dir}, by relative path, with its bytes. */
  static Map<String, byte[]> snapshot(Path dir) {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (Files.isRegularFile(p)) {
          files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** Every path (files and folders) under {@code dir}, relative, sorted. */
  static List<String> tree(Path dir) {
    List<String> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(p -> !p.equals(dir)).forEach(p -> paths.add(dir.relativize(p).toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    paths.sort(null);
    return paths;
  }
}
