package dev.featurebeam.pipelines;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.source.SourceFile;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.Counters;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.beam.sdk.metrics.MetricResults;

/**
 * What a training-set run did, as {@code FILE.report.json}: the spine's rows read, blank, used and
 * quarantined (by reason), the events' counts as a batch run reports them (exact mode), where
 * snapshot rows came from (snapshot mode), the rows written and the file's sha256.
 */
public final class TrainingSetReport {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Map<String, Object> body;
  private final long rows;
  private final long spineQuarantined;
  private final long invalidValues;
  private final Path out;

  private TrainingSetReport(Map<String, Object> body, long rows, long spineQuarantined,
      long invalidValues, Path out) {
    this.body = body;
    this.rows = rows;
    this.spineQuarantined = spineQuarantined;
    this.invalidValues = invalidValues;
    this.out = out;
  }

  static TrainingSetReport of(TrainingSetOptions options, FeatureSpec spec,
      List<SourceFile> files, MetricResults metrics, Path out, Map<String, Long> durations) {
    Map<String, Long> spine = RunReport.counters(metrics, TrainingSetPipeline.SPINE_NAMESPACE);
    Map<String, Long> training = RunReport.counters(metrics, TrainingFile.NAMESPACE);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("command", "training-set");
    body.put("tool_version", Version.tool());
    body.put("feature_set", spec.featureSet());
    body.put("version", spec.version());
    body.put("spec_sha256", spec.sha256());
    body.put("mode", options.getMode().name());
    body.put("spine", options.getSpine());
    body.put("spine_timestamp", options.getSpineTimestamp());
    body.put("out", out.toString());
    Map<String, Object> spineCounts = new LinkedHashMap<>();
    for (String k : new String[] {SpineRows.READ, SpineRows.BLANK, SpineRows.VALID,
        SpineRows.QUARANTINED_ROWS}) {
      spineCounts.put(k, spine.getOrDefault(k, 0L));
    }
    spineCounts.put("quarantine_reasons",
        RunReport.counters(metrics, TrainingSetPipeline.SPINE_QUARANTINE_NAMESPACE));
    body.put("spine_rows", spineCounts);
    if (options.getMode() == TrainingSetOptions.Mode.exact) {
      Map<String, Object> events = new LinkedHashMap<>();
      events.put("source", options.getSource());
      events.put("files", RunReport.describe(files));
      Map<String, Long> counts = RunReport.counters(metrics, Counters.NAMESPACE);
      for (String k : new String[] {Counters.READ, Counters.BLANK, Counters.VALID,
          Counters.QUARANTINED, Counters.DUPLICATES_EXACT, Counters.DUPLICATES_CONFLICTING}) {
        events.put(k, counts.getOrDefault(k, 0L));
      }
      events.put("quarantine_reasons",
          RunReport.counters(metrics, Counters.QUARANTINE_NAMESPACE));
      body.put("events", events);
    } else {
      Map<String, Object> snapshot = new LinkedHashMap<>();
      snapshot.put("store", options.getStore());
      snapshot.put("max_staleness", options.getMaxStaleness());
      Map<String, Long> counts = RunReport.counters(metrics, SnapshotJoin.NAMESPACE);
      for (String k : new String[] {SnapshotJoin.FROM_PARTITION, SnapshotJoin.NO_ENTITY_ROW,
          SnapshotJoin.NO_PARTITION, SnapshotJoin.STALE}) {
        snapshot.put(k, counts.getOrDefault(k, 0L));
      }
      body.put("snapshot", snapshot);
    }
    long rows = training.getOrDefault(TrainingFile.ROWS_WRITTEN, 0L);
    long invalid = training.getOrDefault(TrainingFile.INVALID_VALUES, 0L);
    body.put("rows", rows);
    body.put("invalid_values", invalid);
    body.put("quarantine", out.resolveSibling(out.getFileName() + ".quarantine.jsonl").toString());
    body.put("durations_ms", new java.util.TreeMap<>(durations));
    return new TrainingSetReport(body, rows, spine.getOrDefault(SpineRows.QUARANTINED_ROWS, 0L),
        invalid, out);
  }

  public long rows() {
    return rows;
  }

  public long spineQuarantined() {
    return spineQuarantined;
  }

  public long invalidValues() {
    return invalidValues;
  }

  /** The report's content, with the sha256 of the file it describes. */
  byte[] json(Path file) {
    try {
      body.put("out_sha256", OfflineStore.sha256(file));
      return (JSON.writeValueAsString(body) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Map<String, Object> body() {
    return body;
  }

  void printSummary(PrintStream print) {
    print.printf(Locale.ROOT, "FeatureBeam training-set (%s): %s v%s, %,d rows in %s%n",
        body.get("mode"), body.get("feature_set"), body.get("version"), rows, out);
    if (spineQuarantined > 0) {
      print.printf(Locale.ROOT, "  %,d spine rows quarantined (see %s)%n", spineQuarantined,
          body.get("quarantine"));
    }
  }
}
