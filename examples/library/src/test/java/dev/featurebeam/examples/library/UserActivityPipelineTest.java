package dev.featurebeam.examples.library;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.Counters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The pipeline on a worked example: two users over two days, one event sent twice, one line cut
 * short and one event at the last as-of instant, which no feature may see. Expected values are
 * worked out by hand in the comments.
 */
public class UserActivityPipelineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  static final String EVENTS = """
      {"event_id":"e1","user_id":"u1","event_type":"view","ts":"2025-01-01T09:00:00Z"}
      {"event_id":"e2","user_id":"u1","event_type":"purchase","amount":10.00,"ts":"2025-01-01T10:00:00Z"}
      {"event_id":"e3","user_id":"u2","event_type":"cart","amount":5.25,"ts":"2025-01-02T09:30:00Z"}
      {"event_id":"e2","user_id":"u1","event_type":"purchase","amount":10.00,"ts":"2025-01-01T10:00:00Z"}
      {"event_id":"e4","user_id":"u2","event_type":"PURCHASE","amount":4.75,"ts":"2025-01-02T09:00:00Z"}
      {"event_id":"e5","user_id":"u1","event_type":"purchase","amount":25.50,"ts":"2025-01-02T18:30:00Z"}
      {"event_id":"e6","user_id":"u2","event_type":"purchase","amount":
      {"event_id":"e7","user_id":"u1","event_type":"purchase","amount":99.00,"ts":"2025-01-03T00:00:00Z"}
      """;

  static final AsOfRange RANGE = AsOfRange.of(LocalDate.of(2025, 1, 1), LocalDate.of(2025, 1, 2));

  @Test
  public void computesPublishesAndQuarantines() throws Exception {
    FeatureSpec spec = UserActivityPipeline.spec();
    Path out = tmp.getRoot().toPath();
    Path quarantine = out.resolve("quarantine.jsonl");
    // No coder to set: RawRecord's is found for the records Create holds.
    UserActivityPipeline.Outputs outputs = UserActivityPipeline.build(
        p.apply(Create.of(UserActivityPipeline.jsonLines("events.jsonl", EVENTS))),
        spec, RANGE, out.toString(), quarantine.toString());

    // As of 2025-01-01, the instant 2025-01-02T00:00Z: u1 has e1 and e2 (its copy dropped); u2
    // has no event yet, so no row. As of 2025-01-02: u1 adds e5, u2 has e3 and e4 ("PURCHASE"
    // lower-cased); e3 is u2's latest by event time, though it came first. e7 is at the instant
    // 2025-01-03T00:00Z itself, so it counts nowhere. avg_amount_7d: (10 + 25.5) / 2 and
    // (5.25 + 4.75) / 2, e1 having no amount.
    PAssert.that(outputs.features()).containsInAnyOrder(
        row(spec, "u1", "2025-01-01", 2, 1, 10.0, 10.0, "purchase"),
        row(spec, "u1", "2025-01-02", 3, 2, 35.5, 17.75, "purchase"),
        row(spec, "u2", "2025-01-02", 2, 1, 4.75, 5.0, "cart"));
    PAssert.that(outputs.quarantined()).satisfies(records -> {
      List<QuarantineRecord> all = new ArrayList<>();
      records.forEach(all::add);
      assertThat(all.size(), is(1));
      QuarantineRecord r = all.get(0);
      assertThat(r.reason(), is("MALFORMED"));
      assertThat(r.source(), is("events.jsonl:7"));
      assertThat(r.payload(), is(EVENTS.split("\n")[6]));
      assertThat(r.detail(), startsWith("invalid JSON"));
      return null;
    });
    PAssert.that(outputs.partitions()).satisfies(partitions -> {
      List<String> seen = new ArrayList<>();
      for (PartitionOutcome o : partitions) {
        seen.add(LocalDate.ofEpochDay(o.asOfEpochDay()) + " published=" + o.published()
            + " rows=" + o.rowCount());
      }
      assertThat(seen, containsInAnyOrder(
          "2025-01-01 published=true rows=1", "2025-01-02 published=true rows=2"));
      return null;
    });
    PAssert.thatSingleton(outputs.quarantineLines()).isEqualTo(1L);

    PipelineResult result = p.run();
    result.waitUntilFinish();

    // Every record is accounted for: read = valid + duplicates + quarantined + out_of_range.
    assertThat(counter(result, Counters.READ), is(8L));
    assertThat(counter(result, Counters.VALID), is(5L));
    assertThat(counter(result, Counters.DUPLICATES_EXACT), is(1L));
    assertThat(counter(result, Counters.QUARANTINED), is(1L));
    assertThat(counter(result, Counters.OUT_OF_RANGE), is(1L));

    // The published partition: its manifest lists its one file with that file's rows and sha256,
    // and every check passed; the file holds u1 and u2, sorted by entity.
    Path partition = OfflineStore.partitionDir(out, spec, LocalDate.of(2025, 1, 2).toEpochDay());
    JsonNode manifest =
        new ObjectMapper().readTree(partition.resolve(OfflineStore.MANIFEST).toFile());
    assertThat(manifest.get("as_of_date").asText(), is("2025-01-02"));
    assertThat(manifest.get("as_of_instant").asText(), is("2025-01-03T00:00:00Z"));
    assertThat(manifest.get("row_count").asLong(), is(2L));
    JsonNode file = manifest.get("files").get(0);
    assertThat(manifest.get("files").size(), is(1));
    assertThat(file.get("rows").asLong(), is(2L));
    assertThat(file.get("sha256").asText(),
        is(OfflineStore.sha256(partition.resolve(file.get("name").asText()))));
    assertThat(manifest.get("quality").size(), is(spec.quality().size()));
    manifest.get("quality").forEach(check -> assertThat(check.toString(),
        check.get("passed").asBoolean(), is(true)));
    List<GenericRecord> rows = PartitionReader.read(partition);
    assertThat(rows.stream().map(r -> r.get("user_id").toString()).collect(Collectors.toList()),
        contains("u1", "u2"));
    assertThat((Double) rows.get(0).get("purchase_amount_7d"), is(35.5));

    List<String> quarantineLines = Files.readAllLines(quarantine, StandardCharsets.UTF_8);
    assertThat(quarantineLines.size(), is(1));
    assertThat(new ObjectMapper().readTree(quarantineLines.get(0)).get("reason").asText(),
        is("MALFORMED"));
  }

  @Test
  public void mainReadsFilesIntoTheStore() throws Exception {
    Path events = tmp.newFile("events.jsonl").toPath();
    Files.writeString(events, EVENTS, StandardCharsets.UTF_8);
    Path out = tmp.newFolder("out").toPath();

    UserActivityPipeline.main(new String[] {
        "--source=" + events, "--out=" + out, "--from=2025-01-01", "--to=2025-01-02"});

    FeatureSpec spec = UserActivityPipeline.spec();
    for (String date : List.of("2025-01-01", "2025-01-02")) {
      Path partition = OfflineStore.partitionDir(out, spec, LocalDate.parse(date).toEpochDay());
      assertThat(date + " is published",
          Files.isRegularFile(partition.resolve(OfflineStore.MANIFEST)));
    }
    List<String> quarantined = Files.readAllLines(out.resolve("quarantine.jsonl"));
    assertThat(quarantined.size(), is(1));
    assertThat(new ObjectMapper().readTree(quarantined.get(0)).get("source").asText(),
        is(events + ":7"));
  }

  /** An expected feature row, in the spec's output schema. */
  static Row row(FeatureSpec spec, String user, String date, long events, long purchases,
      double purchaseAmount, double avgAmount, String lastType) {
    return Row.withSchema(spec.outputSchema())
        .addValues(user, LocalDate.parse(date), events, purchases, purchaseAmount, avgAmount,
            lastType)
        .build();
  }

  /** A FeatureBeam counter's committed value. */
  static long counter(PipelineResult result, String name) {
    long total = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(Counters.NAMESPACE, name)).build()).getCounters()) {
      total += c.getCommitted();
    }
    return total;
  }
}
