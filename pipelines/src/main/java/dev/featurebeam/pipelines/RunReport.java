package dev.featurebeam.pipelines;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.featurebeam.io.sink.StoreLocation;
import dev.featurebeam.io.source.SourceFile;
import dev.featurebeam.io.source.http.ApiPull;
import dev.featurebeam.io.source.http.ApiRequest;
import dev.featurebeam.io.source.http.Landing;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.Counters;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The machine-readable account of one run ({@code report.json} in the run folder): counts per
 * stage read back from Beam metrics, quarantine reasons, duplicates, late records, partitions and
 * their checks, durations, lineage. Rewritten whole on every run of the same range.
 */
public final class RunReport {
  public static final String REPORT_FILE = "report.json";
  public static final String QUARANTINE_FILE = "quarantine.jsonl";
  static final String OUTCOMES_FILE = "_outcomes.jsonl";
  /** A stream's outcomes: one file per date, written as the date is published. */
  static final String OUTCOMES_DIR = "_outcomes";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Map<String, Object> body;
  /** The run folder, a local path or a remote location. */
  private final String runDir;
  private final List<PartitionOutcome> outcomes;
  private final Map<String, Long> counts;
  private final Map<String, Long> reasons;
  private final long totalMs;

  private RunReport(Map<String, Object> body, String runDir, List<PartitionOutcome> outcomes,
      Map<String, Long> counts, Map<String, Long> reasons, long totalMs) {
    this.body = body;
    this.runDir = runDir;
    this.outcomes = outcomes;
    this.counts = counts;
    this.reasons = reasons;
    this.totalMs = totalMs;
  }

  static RunReport of(FeatureSpec spec, AsOfRange range, PipelineOptions options,
      List<SourceFile> files, MetricResults metrics, List<PartitionOutcome> outcomes, Path runDir,
      Map<String, Long> durations) {
    return of(spec, range, options, files, metrics, outcomes, runDir.toString(), durations);
  }

  /** As above, for a run folder given as a location, local or remote. */
  static RunReport of(FeatureSpec spec, AsOfRange range, PipelineOptions options,
      List<SourceFile> files, MetricResults metrics, List<PartitionOutcome> outcomes,
      String runDir, Map<String, Long> durations) {
    return of(spec, range, options, files, counters(metrics, Counters.NAMESPACE),
        counters(metrics, Counters.QUARANTINE_NAMESPACE), outcomes, runDir, durations);
  }

  /** As above, from counts (of {@link Counters#NAMESPACE}) and quarantine reasons given. */
  static RunReport of(FeatureSpec spec, AsOfRange range, PipelineOptions options,
      List<SourceFile> files, Map<String, Long> counts, Map<String, Long> reasons,
      List<PartitionOutcome> outcomes, Path runDir, Map<String, Long> durations) {
    return of(spec, range, options, files, counts, reasons, outcomes, runDir.toString(), durations);
  }

  static RunReport of(FeatureSpec spec, AsOfRange range, PipelineOptions options,
      List<SourceFile> files, Map<String, Long> counts, Map<String, Long> reasons,
      List<PartitionOutcome> outcomes, String runDir, Map<String, Long> durations) {
    long late = counts.getOrDefault(Counters.LATE, 0L);
    long read = read(counts);
    long valid = counts.getOrDefault(Counters.VALID, 0L);
    long exact = counts.getOrDefault(Counters.DUPLICATES_EXACT, 0L);
    long conflicting = counts.getOrDefault(Counters.DUPLICATES_CONFLICTING, 0L);
    long quarantined = counts.getOrDefault(Counters.QUARANTINED, 0L);
    long outOfRange = counts.getOrDefault(Counters.OUT_OF_RANGE, 0L);
    long blank = counts.getOrDefault(Counters.BLANK, 0L);

    Map<String, Object> body = new LinkedHashMap<>();
    body.put("feature_set", spec.featureSet());
    body.put("version", spec.version());
    body.put("spec_sha256", spec.sha256());
    body.put("as_of_from", LocalDate.ofEpochDay(range.fromDay()).toString());
    body.put("as_of_to", LocalDate.ofEpochDay(range.toDay()).toString());
    body.put("runner", options.getRunner().getSimpleName());
    if (options.as(org.apache.beam.sdk.options.StreamingOptions.class).isStreaming()) {
      body.put("command", "stream");
    }
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("read", read);
    c.put("valid", valid);
    c.put("duplicates", exact + conflicting);
    c.put("duplicates_exact", exact);
    c.put("duplicates_conflicting", conflicting);
    c.put("quarantined", quarantined);
    c.put("out_of_range", outOfRange);
    c.put("blank", blank);
    c.put("late", late + counts.getOrDefault(Counters.LATE_TILES, 0L));
    c.put("tiles", counts.getOrDefault(Counters.TILES, 0L));
    c.put("feature_rows", counts.getOrDefault(Counters.FEATURE_ROWS, 0L));
    long accounted = read - unaccounted(counts);
    boolean stream = "stream".equals(body.get("command"));
    // A stream stops while records read after its last date closed are still on their way
    // (de-duplication holds a copy until its horizon passes): they are counted as in flight.
    long inFlight = stream ? Math.max(0, read - accounted) : 0;
    if (stream) {
      c.put("in_flight", inFlight);
    }
    body.put("counts", c);
    body.put("identity", String.format(Locale.ROOT,
        "read %d = valid %d + duplicates %d + quarantined %d + out_of_range %d + blank %d", read,
        valid, exact + conflicting, quarantined, outOfRange, blank)
        + (stream ? " + in_flight " + inFlight : ""));
    body.put("identity_holds", read == accounted + inFlight);
    body.put("quarantine_reasons", reasons);
    List<Map<String, Object>> parts = new ArrayList<>();
    for (PartitionOutcome o : outcomes) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("as_of_date", LocalDate.ofEpochDay(o.asOfEpochDay()).toString());
      m.put("published", o.published());
      m.put("rows", o.rowCount());
      m.put("path", o.path());
      m.put("failures", o.failures());
      m.put("manifest_sha256", o.manifestSha256());
      parts.add(m);
    }
    body.put("partitions", parts);
    body.put("lineage", describe(files));
    body.put("quarantine_file", inFolder(runDir, QUARANTINE_FILE));
    body.put("durations_ms", new TreeMap<>(durations));
    return new RunReport(body, runDir, outcomes, counts, reasons,
        durations.getOrDefault("total_ms", 0L));
  }

  /**
   * Records what a database source read: its URL (no password), the relation, the predicate the
   * run pushed into SQL ("" when none) and the number of range queries; the rows read are
   * counts.read.
   */
  RunReport withDatabaseSource(String url, String relation, String predicate, int queries) {
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("url", url);
    source.put("relation", relation);
    source.put("predicate", predicate);
    source.put("queries", queries);
    body.put("database_source", source);
    return this;
  }

  /**
   * Records the JDBC feature table: its database's URL (no password), the table and the rows
   * written per date it replaced, in date order.
   */
  RunReport withJdbcSink(String url, String table, Map<String, Long> rowsByDate) {
    Map<String, Object> sink = new LinkedHashMap<>();
    sink.put("url", url);
    sink.put("table", table);
    List<Map<String, Object>> dates = new ArrayList<>();
    rowsByDate.forEach((date, rows) -> {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("as_of_date", date);
      d.put("rows", rows);
      dates.add(d);
    });
    sink.put("dates", dates);
    body.put("jdbc_sink", sink);
    return this;
  }

  /**
   * Records what an API source read: the request (URL, paging, time parameters), the client's
   * settings (header names, never values), the landing folder and its pages, how many of them
   * this run fetched (0 when it read a complete landing) and how long landing took.
   */
  RunReport withApiSource(ApiRequest request, Map<String, Object> client, ApiPull.Result pull,
      long landingMs) {
    Map<String, Object> source = new LinkedHashMap<>(request.describe());
    source.putAll(client);
    source.put("landing", pull.landing().dir().toString());
    source.put("pages_fetched", pull.pagesFetched());
    source.put("landing_ms", landingMs);
    source.put("records", pull.landing().records());
    List<Map<String, Object>> pages = new ArrayList<>();
    for (Landing.Page p : pull.landing().pages()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("file", p.file());
      m.put("url", p.url());
      m.put("records", p.records());
      m.put("sha256", p.sha256());
      m.put("fetched_at", p.fetchedAt());
      pages.add(m);
    }
    source.put("pages", pages);
    body.put("api_source", source);
    return this;
  }

  /** The files a run read, as its report lists them: {@code path} and {@code size_bytes} each. */
  static List<Map<String, Object>> describe(List<SourceFile> files) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (SourceFile f : files) {
      // Keys put one by one: Map.of's order changes from one JVM to the next.
      Map<String, Object> source = new LinkedHashMap<>();
      source.put("path", f.path());
      source.put("size_bytes", f.sizeBytes());
      out.add(source);
    }
    return out;
  }

  /** Records read; a stream quarantines late records before validation, which counts the rest. */
  static long read(Map<String, Long> counts) {
    return counts.getOrDefault(Counters.READ, 0L) + counts.getOrDefault(Counters.LATE, 0L);
  }

  /** Records read that no count of the identity holds (yet): zero once a run is done. */
  static long unaccounted(Map<String, Long> counts) {
    long accounted = 0;
    for (String term : List.of(Counters.VALID, Counters.DUPLICATES_EXACT,
        Counters.DUPLICATES_CONFLICTING, Counters.QUARANTINED, Counters.OUT_OF_RANGE,
        Counters.BLANK)) {
      accounted += counts.getOrDefault(term, 0L);
    }
    return read(counts) - accounted;
  }

  /** Sums each counter over all steps; attempted values, which every runner reports. */
  static Map<String, Long> counters(MetricResults metrics, String namespace) {
    Map<String, Long> out = new TreeMap<>();
    MetricQueryResults q = metrics.queryMetrics(
        MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(namespace)).build());
    for (MetricResult<Long> r : q.getCounters()) {
      if (r.getName().getNamespace().equals(namespace)) { // a snapshot may hold every namespace
        out.merge(r.getName().getName(), r.getAttempted(), Long::sum);
      }
    }
    return out;
  }

  /**
   * Writes {@code report.json} into {@code dir}, the run folder as it is staged (it moves to
   * {@link #path()}'s folder afterwards), and drops the outcomes the pipeline handed over there.
   */
  void writeTo(Path dir) {
    try {
      Files.write(dir.resolve(REPORT_FILE), JSON.writeValueAsBytes(body));
      Files.deleteIfExists(dir.resolve(OUTCOMES_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the run report in " + dir, e);
    }
  }

  /** {@link #writeTo(Path)} for a staged run folder given as a location, local or remote. */
  void writeTo(String dir) {
    if (!StoreLocation.isRemote(dir)) {
      writeTo(Path.of(dir));
      return;
    }
    try {
      StoreLocation.delete(StoreLocation.join(dir, OUTCOMES_FILE));
      StoreLocation.write(StoreLocation.join(dir, REPORT_FILE), JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the run report in " + dir, e);
    }
  }

  /** Where the report is once its run folder is published. */
  public String path() {
    return inFolder(runDir, REPORT_FILE);
  }

  /** {@code dir/name}, as a local Path would render it or as a remote location. */
  static String inFolder(String dir, String name) {
    return StoreLocation.isRemote(dir) ? StoreLocation.join(dir, name)
        : Path.of(dir).resolve(name).toString();
  }

  public List<PartitionOutcome> outcomes() {
    return outcomes;
  }

  public boolean allPublished() {
    return outcomes.stream().allMatch(PartitionOutcome::published);
  }

  public long count(String name) {
    return counts.getOrDefault(name, 0L);
  }

  /** The one-screen summary at the end of a run. */
  public void printSummary(PrintStream out) {
    long published = outcomes.stream().filter(PartitionOutcome::published).count();
    long rows = outcomes.stream().filter(PartitionOutcome::published)
        .mapToLong(PartitionOutcome::rowCount).sum();
    out.printf(Locale.ROOT, "FeatureBeam %s: %s v%s, as of %s..%s on %s, %.1f s%n",
        body.getOrDefault("command", "batch"),
        body.get("feature_set"), body.get("version"), body.get("as_of_from"), body.get("as_of_to"),
        body.get("runner"), totalMs / 1000.0);
    out.printf(Locale.ROOT, "  read          %,12d records%n",
        count(Counters.READ) + count(Counters.LATE));
    out.printf(Locale.ROOT, "  valid         %,12d (in range, de-duplicated)%n", count(Counters.VALID));
    out.printf(Locale.ROOT, "  duplicates    %,12d (%,d exact, %,d conflicting)%n",
        count(Counters.DUPLICATES_EXACT) + count(Counters.DUPLICATES_CONFLICTING),
        count(Counters.DUPLICATES_EXACT), count(Counters.DUPLICATES_CONFLICTING));
    out.printf(Locale.ROOT, "  quarantined   %,12d%s%n", count(Counters.QUARANTINED), reasonsText());
    out.printf(Locale.ROOT, "  out of range  %,12d%n", count(Counters.OUT_OF_RANGE));
    out.printf(Locale.ROOT, "  blank lines   %,12d%n", count(Counters.BLANK));
    if ("stream".equals(body.get("command"))) {
      Object inFlight = ((Map<?, ?>) body.get("counts")).get("in_flight");
      out.printf(Locale.ROOT, "  in flight     %,12d (read after the last date, not yet counted)%n",
          ((Number) inFlight).longValue());
    }
    out.printf(Locale.ROOT, "  partitions    %,12d published, %d rejected; %,d rows%n",
        published, outcomes.size() - published, rows);
    if (body.get("jdbc_sink") instanceof Map) {
      Map<?, ?> sink = (Map<?, ?>) body.get("jdbc_sink");
      List<?> dates = (List<?>) sink.get("dates");
      long sinkRows = dates.stream().mapToLong(d -> ((Number) ((Map<?, ?>) d).get("rows"))
          .longValue()).sum();
      out.printf(Locale.ROOT, "  jdbc sink     %,12d dates replaced; %,d rows in table %s%n",
          dates.size(), sinkRows, sink.get("table"));
    }
    out.printf("  report        %s%n", path());
    out.printf("  quarantine    %s%n", body.get("quarantine_file"));
    if (!Boolean.TRUE.equals(body.get("identity_holds"))) {
      out.printf("  WARNING: counts do not add up: %s%n", body.get("identity"));
    }
  }

  private String reasonsText() {
    if (reasons.isEmpty()) {
      return "";
    }
    List<String> parts = new ArrayList<>();
    reasons.forEach((k, v) -> parts.add(k + " " + v));
    return " (" + String.join(", ", parts) + ")";
  }

  /** The failed checks, one line each, for standard error. */
  public List<String> failures() {
    List<String> out = new ArrayList<>();
    for (PartitionOutcome o : outcomes) {
      out.addAll(o.failures());
    }
    return out;
  }

  // The partition outcomes travel from the pipeline to this report through a small file in the
  // run folder: Flink's local mode gives no other way to hand elements back to the driver.

  static PTransform<PCollection<PartitionOutcome>, PDone> writeOutcomes(Path runDir) {
    return writeOutcomes(runDir.toString());
  }

  /** As above, into a run folder given as a location, local or remote. */
  static PTransform<PCollection<PartitionOutcome>, PDone> writeOutcomes(String runDir) {
    String target = inFolder(runDir, OUTCOMES_FILE);
    return new PTransform<PCollection<PartitionOutcome>, PDone>() {
      @Override
      public PDone expand(PCollection<PartitionOutcome> outcomes) {
        outcomes
            .apply("ToJson", MapElements.into(TypeDescriptors.strings()).via(RunReport::toJson))
            .apply("Gather", Combine.globally(new Combine.BinaryCombineFn<String>() {
              @Override
              public String apply(String left, String right) {
                return left + "\n" + right;
              }
            }).withoutDefaults())
            .apply("Write", ParDo.of(new DoFn<String, Void>() {
              @ProcessElement
              public void process(@Element String lines) throws IOException {
                byte[] bytes = (lines + "\n").getBytes(StandardCharsets.UTF_8);
                if (StoreLocation.isRemote(target)) {
                  StoreLocation.write(target, bytes);
                } else {
                  Files.write(Path.of(target), bytes);
                }
              }
            }));
        return PDone.in(outcomes.getPipeline());
      }
    };
  }

  /** For a stream: each outcome as {@code _outcomes/<epoch day>.json}, written as it comes. */
  static PTransform<PCollection<PartitionOutcome>, PDone> writeOutcomeFiles(Path runDir) {
    String dir = runDir.resolve(OUTCOMES_DIR).toString();
    return new PTransform<PCollection<PartitionOutcome>, PDone>() {
      @Override
      public PDone expand(PCollection<PartitionOutcome> outcomes) {
        outcomes.apply("WriteEach", ParDo.of(new DoFn<PartitionOutcome, Void>() {
          @ProcessElement
          public void process(@Element PartitionOutcome o) throws IOException {
            Path folder = Files.createDirectories(Path.of(dir));
            Path tmp = folder.resolve("." + o.asOfEpochDay() + ".tmp");
            Files.write(tmp, (toJson(o) + "\n").getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, folder.resolve(o.asOfEpochDay() + ".json"),
                java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          }
        }));
        return PDone.in(outcomes.getPipeline());
      }
    };
  }

  private static String toJson(PartitionOutcome o) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("asOfEpochDay", o.asOfEpochDay());
    m.put("published", o.published());
    m.put("rowCount", o.rowCount());
    m.put("path", o.path());
    m.put("failures", o.failures());
    m.put("manifestSha256", o.manifestSha256());
    try {
      return new ObjectMapper().writeValueAsString(m);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@link #readOutcomes(Path)} of a run folder given as a location, local or remote. */
  static List<PartitionOutcome> readOutcomes(String runDir) {
    if (!StoreLocation.isRemote(runDir)) {
      return readOutcomes(Path.of(runDir));
    }
    try {
      byte[] bytes = StoreLocation.readIfFile(StoreLocation.join(runDir, OUTCOMES_FILE));
      return parseOutcomes(bytes == null ? List.of()
          : new String(bytes, StandardCharsets.UTF_8).lines().collect(
              java.util.stream.Collectors.toList()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<PartitionOutcome> readOutcomes(Path runDir) {
    List<String> lines = new ArrayList<>();
    try {
      Path file = runDir.resolve(OUTCOMES_FILE);
      if (Files.exists(file)) {
        lines.addAll(Files.readAllLines(file));
      }
      Path dir = runDir.resolve(OUTCOMES_DIR);
      if (Files.isDirectory(dir)) {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            if (f.getFileName().toString().endsWith(".json")) {
              lines.addAll(Files.readAllLines(f));
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return parseOutcomes(lines);
  }

  private static List<PartitionOutcome> parseOutcomes(List<String> lines) {
    List<PartitionOutcome> out = new ArrayList<>();
    try {
      for (String line : lines) {
        if (line.isBlank()) {
          continue;
        }
        Map<String, Object> m = new ObjectMapper().readValue(line, new TypeReference<>() {});
        @SuppressWarnings("unchecked")
        List<String> failures = (List<String>) m.get("failures");
        out.add(PartitionOutcome.of(((Number) m.get("asOfEpochDay")).longValue(),
            (Boolean) m.get("published"), ((Number) m.get("rowCount")).longValue(),
            (String) m.get("path"), failures, (String) m.get("manifestSha256")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.sort((a, b) -> Long.compare(a.asOfEpochDay(), b.asOfEpochDay()));
    return Collections.unmodifiableList(out);
  }
}
