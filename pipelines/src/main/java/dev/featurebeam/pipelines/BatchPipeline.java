package dev.featurebeam.pipelines;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.io.sink.FolderSwap;
import dev.featurebeam.io.sink.JdbcFeatureTable;
import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.OfflineStoreWrite;
import dev.featurebeam.io.sink.QuarantineWrite;
import dev.featurebeam.io.sink.StoreFaults;
import dev.featurebeam.io.sink.StoreLocation;
import dev.featurebeam.io.source.FileSource;
import dev.featurebeam.io.source.JdbcRelation;
import dev.featurebeam.io.source.JdbcSource;
import dev.featurebeam.io.source.JdbcTarget;
import dev.featurebeam.io.source.SourceContract;
import dev.featurebeam.io.source.SourceFile;
import dev.featurebeam.io.source.http.ApiPull;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.BuildFeatures;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;

/**
 * The nightly batch and backfill job: read a source, build features for every as-of date of the
 * range, gate each partition on the spec's checks, publish what passes to the offline store, and
 * write the quarantine and the run report. Fails fast, before any pipeline starts, on a bad spec,
 * bad dates or a source that breaks the spec's schema contract.
 */
public final class BatchPipeline {
  private final BatchOptions options;
  private final FeatureSpec spec;
  private final AsOfRange range;
  /** A file source's glob, or null for a database; an API's is known once its pages land. */
  private String glob;
  /** A JSON API source, or null. */
  private final ApiSource api;
  /** The API source's pages, once landed. */
  private ApiPull.Result landed;
  private long landedMs;
  /** A database source, or null for files. */
  private final JdbcTarget jdbc;
  private final JdbcRelation relation;
  /** The database source as read, once its contract is checked. */
  private JdbcSource jdbcSource;
  /** The JDBC feature table ({@code --jdbcSink}), or null. */
  private final JdbcFeatureTable sink;
  /** The sink's table, once checked or created. */
  private JdbcFeatureTable.Mirror mirror;
  /** The store's root on a local disk, or null for a remote root. */
  private final Path out;
  /** The store's root as given: {@link #out} as a string, or a remote URI (hdfs://, s3://). */
  private final String outLocation;
  private final boolean remote;
  private final Consumer<String> notices;
  private final PrintStream progressTo;

  private BatchPipeline(BatchOptions options, Consumer<String> notices, PrintStream progressTo) {
    this.options = options;
    this.notices = notices;
    this.progressTo = progressTo;
    Path specFile = Path.of(required(options.getSpec(), "spec"));
    if (!Files.isRegularFile(specFile)) {
      throw new IllegalArgumentException("--spec=" + specFile + ": no such file");
    }
    this.spec = SpecParser.parse(specFile);
    this.range = rangeOf(options);
    String source = required(options.getSource(), "source");
    if (JdbcTarget.isJdbc(source)) {
      this.jdbc = JdbcTarget.parse(source, options.getJdbcUser(), options.getJdbcPasswordEnv(),
          System::getenv);
      if ((options.getTable() == null) == (options.getQuery() == null)) {
        throw new IllegalArgumentException("a jdbc: source needs one of --table or --query");
      }
      this.relation = options.getTable() != null ? JdbcRelation.table(options.getTable())
          : JdbcRelation.query(options.getQuery());
      if (options.getJdbcPartitions() < 1) {
        throw new IllegalArgumentException("--jdbcPartitions must be at least 1");
      }
      this.glob = null;
      this.api = null;
    } else {
      if (options.getTable() != null || options.getQuery() != null) {
        throw new IllegalArgumentException("--table and --query are for a jdbc: source");
      }
      this.jdbc = null;
      this.relation = null;
      this.api = ApiSource.isApi(source)
          ? ApiSource.of(options, source, spec, range, System::getenv) : null;
      this.glob = api != null ? null : fileGlob(source);
      if (glob != null && StoreLocation.isRemote(glob)) {
        // file:s3://… or file:hdfs://…: Beam's file systems, with these options, read it (the
        // source's contract is checked before any pipeline would register them).
        StoreLocation.configure(options);
      }
    }
    if (api == null) {
      ApiSource.refuseOptions(options);
    }
    String outOption = required(options.getOut(), "out");
    this.remote = StoreLocation.isRemote(outOption);
    if (remote) {
      if (api != null) {
        throw new IllegalArgumentException("--out=" + outOption + ": an API source lands its"
            + " pages under --out, which must then be a local folder (a remote --out takes file"
            + " and database sources)");
      }
      // Beam's file systems (S3 and others) and the HDFS configuration, from these options.
      StoreLocation.configure(options);
      this.out = null;
      this.outLocation = StoreLocation.strip(outOption);
    } else {
      this.out = StoreLocation.localPath(outOption).toAbsolutePath();
      this.outLocation = out.toString();
    }
    if (options.getShardsPerPartition() < 1) {
      throw new IllegalArgumentException("--shardsPerPartition must be at least 1");
    }
    if (options.getFilePartMegabytes() < 0) {
      throw new IllegalArgumentException("--filePartMegabytes must be 0 (off) or more");
    }
    this.sink = options.getJdbcSink() == null ? null : sinkOf(options, spec);
    if (options.getOnlineStore() != null && !DataflowJob.specificationOnly(options)) {
      // Before any work: a store that does not answer stops the run at once. (A Dataflow job's
      // specification is written without it: only the job's workers would write to it.)
      try (RedisStateStore store = RedisStateStore.open(options.getOnlineStore())) {
        store.ping();
      } catch (IllegalStateException e) {
        throw new IllegalArgumentException("--onlineStore: " + e.getMessage(), e);
      }
    }
  }

  public static BatchPipeline of(BatchOptions options) {
    return of(options, notice -> {});
  }

  /** {@code notices} hears what the run waits for and what it repaired. */
  public static BatchPipeline of(BatchOptions options, Consumer<String> notices) {
    return of(options, notices, System.err);
  }

  /**
   * {@code notices} hears what the run waits for and what it repaired; the progress line (with
   * {@code --progress}) goes to {@code progressTo}.
   */
  public static BatchPipeline of(BatchOptions options, Consumer<String> notices,
      PrintStream progressTo) {
    return new BatchPipeline(options, notices, progressTo);
  }

  public FeatureSpec spec() {
    return spec;
  }

  public AsOfRange range() {
    return range;
  }

  /** The run folder's name under {@code _runs/}: {@code <from>_<to>}. */
  String runName() {
    return LocalDate.ofEpochDay(range.fromDay()) + "_" + LocalDate.ofEpochDay(range.toDay());
  }

  /** Where this run's report and quarantine go: OUT/<fs>/v<version>/_runs/<from>_<to>/. */
  public Path runDir() {
    return OfflineStore.runFolder(OfflineStore.versionDir(out, spec), runName());
  }

  /** {@link #runDir()} as a location, local or remote. */
  public String runLocation() {
    return remote
        ? StoreLocation.join(OfflineStore.versionLocation(outLocation, spec), OfflineStore.RUNS,
            runName())
        : runDir().toString();
  }

  /**
   * Checks the source, takes the store's lock, repairs what an interrupted run left, lands an API
   * source's pages (or reuses or resumes their landing), builds and runs the pipeline, and
   * returns what happened. The report and the quarantine are staged and
   * moved into {@code _runs/<from>_<to>/} together at the end; a run that fails removes what it
   * staged and leaves that folder as the last finished run left it.
   */
  public RunReport run() {
    long started = System.currentTimeMillis();
    List<SourceFile> files = checkSource();
    if (sink != null) {
      mirror = checkSink();
    }
    long checked = System.currentTimeMillis();
    String versionDir = OfflineStore.versionLocation(outLocation, spec);
    try (StoreSession session = StoreSession.open(versionDir,
        "batch " + range + " from " + displaySource(), options.getNoWait(), options.getOut(),
        notices)) {
      try {
        StoreFaults.at(StoreFaults.AFTER_LOCK, "");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (api != null) {
        // Under the lock: one pull at a time lands into the store.
        long landing = System.currentTimeMillis();
        landed = api.land(api.landingDir(out, spec), notices);
        landedMs = System.currentTimeMillis() - landing;
        glob = landed.landing().glob();
        files = SourceContract.check(spec, glob);
        checked = System.currentTimeMillis();
      }
      return runLocked(files, versionDir, session.runId, session.runStagingLocation, started,
          checked);
    }
  }

  /**
   * The source's contract, checked before any work; the files it lists (none for a database, null
   * for an API source, whose pages land under the lock first).
   */
  private List<SourceFile> checkSource() {
    try {
      if (jdbc != null) {
        jdbcSource = checkDatabase();
        return List.of();
      } else if (api != null) {
        return null; // landed under the lock, then checked
      } else {
        return SourceContract.check(spec, glob);
      }
    } catch (UncheckedIOException e) {
      // A source that cannot be listed or read is the command's problem, not the pipeline's.
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** The run id a job's specification is built with: no run of the store has it. */
  static final String SPECIFICATION_RUN_ID = "job-specification";

  /**
   * With {@code --runner=DataflowRunner --templateLocation=FILE}: checks the source as {@link #run}
   * does, builds the same graph, and has the runner write the job's specification to FILE (the
   * staging paths in it are those of the run id {@value #SPECIFICATION_RUN_ID}). Nothing runs;
   * the store is neither locked nor changed, so the feature table and the online store are not
   * asked either. Returns FILE.
   */
  public String writeJobSpecification() {
    if (api != null) {
      throw new IllegalArgumentException("--templateLocation: an API source's pages land on this"
          + " machine before the graph is built; land them with a run, then give the landing as"
          + " --source=file:" + api.landingDir(out, spec) + "/...");
    }
    List<SourceFile> files = checkSource();
    Path runStaging = OfflineStore.runStagingDir(OfflineStore.versionDir(out, spec),
        SPECIFICATION_RUN_ID).resolve(OfflineStore.RUN);
    Pipeline pipeline = Pipeline.create(options);
    build(pipeline, files, runStaging, SPECIFICATION_RUN_ID);
    return DataflowJob.write(pipeline);
  }

  private RunReport runLocked(List<SourceFile> files, String versionDir, String runId,
      String runStaging, long started, long checked) {
    if (!remote) {
      try {
        Files.createDirectories(Path.of(runStaging));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + runStaging, e);
      }
    }
    PipelineResult result;
    try (LiveMetrics live = LiveMetrics.attach(options, options.getProgress())) {
      Pipeline pipeline = Pipeline.create(options);
      build(pipeline, files, runStaging, runId);
      try (Progress progress = Progress.start(options.getProgress(), progressTo,
          range.days().size(), (long) range.days().size() * options.getShardsPerPartition(),
          live::poll)) {
        result = runPipeline(pipeline, live);
        progress.finish(result.metrics().allMetrics());
      }
    }
    long finished = System.currentTimeMillis();
    try {
      StoreFaults.at(StoreFaults.AFTER_PIPELINE, "");
      List<PartitionOutcome> outcomes = RunReport.readOutcomes(runStaging);
      verifyPublished(outcomes);
      long sinkStarted = System.currentTimeMillis();
      Map<String, Long> mirrored = mirror != null ? mirror(outcomes) : null;
      Map<String, Long> durations = new LinkedHashMap<>(Map.of("contract_check_ms",
          checked - started, "pipeline_ms", finished - checked, "total_ms", finished - started));
      if (mirrored != null) {
        long mirroredAt = System.currentTimeMillis();
        durations.put("jdbc_sink_ms", mirroredAt - sinkStarted);
        durations.put("total_ms", mirroredAt - started);
      }
      RunReport report = RunReport.of(spec, range, options, files, result.metrics(), outcomes,
          runLocation(), durations);
      if (landed != null) {
        report.withApiSource(api.request, api.clientSettings(), landed, landedMs);
      }
      if (jdbcSource != null) {
        report.withDatabaseSource(jdbc.displayUrl(), relation.describe(), jdbcSource.predicate(),
            options.getJdbcPartitions());
      }
      if (mirrored != null) {
        report.withJdbcSink(sink.displayUrl(), mirror.tableName(), mirrored);
      }
      report.writeTo(runStaging);
      StoreFaults.at(StoreFaults.AFTER_REPORT, "");
      if (remote) {
        StoreLocation.publishRunFolder(runStaging, versionDir, runName(), RunReport.REPORT_FILE);
      } else {
        FolderSwap.replace(Path.of(runStaging), runDir(),
            OfflineStore.runFolderAside(Path.of(versionDir), runId, runName()), "run");
      }
      return report;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish the run folder " + runLocation(), e);
    }
  }

  /** Runs the job to its end; however it fails, that is a pipeline failure (exit 1). */
  private static PipelineResult runPipeline(Pipeline pipeline, LiveMetrics live) {
    try {
      PipelineResult result = pipeline.run();
      live.started(result);
      PipelineResult.State state = result.waitUntilFinish();
      if (state != PipelineResult.State.DONE) {
        throw new IllegalStateException("pipeline ended in state " + state);
      }
      return result;
    } catch (RuntimeException e) {
      throw new PipelineFailedException(e);
    }
  }

  /** The job itself failed, as opposed to what the command was given. */
  public static final class PipelineFailedException extends RuntimeException {
    PipelineFailedException(RuntimeException cause) {
      super("the pipeline failed: " + cause.getMessage(), cause);
    }
  }

  /** A report never claims a partition the store does not hold, byte for byte. */
  private void verifyPublished(List<PartitionOutcome> outcomes) {
    for (PartitionOutcome o : outcomes) {
      if (o.published()) {
        String held = OfflineStore.manifestSha256(o.path()).orElse("no manifest");
        if (!held.equals(o.manifestSha256())) {
          throw new IllegalStateException("the store's " + o.path() + " is not what this run"
              + " published (manifest " + held + ", expected " + o.manifestSha256() + ")");
        }
      }
    }
  }

  /** The pipeline graph, from the source to the sinks. */
  void build(Pipeline pipeline, List<SourceFile> files, Path runStaging, String runId) {
    build(pipeline, files, runStaging.toString(), runId);
  }

  /** As above, with the run's staged folder given as a location, local or remote. */
  void build(Pipeline pipeline, List<SourceFile> files, String runStaging, String runId) {
    PCollection<RawRecord> records;
    if (jdbcSource != null) {
      records = pipeline.apply("ReadDatabase", jdbcSource);
    } else {
      FileSource source = FileSource.read(glob);
      if (options.getFilePartMegabytes() > 0) {
        source = source.inParts(options.getFilePartMegabytes() * (1L << 20));
      }
      records = pipeline.apply("ReadFiles", source);
    }
    PCollectionTuple built = records.apply("BuildFeatures", BuildFeatures.of(spec, range));
    PCollection<Row> features = built.get(BuildFeatures.FEATURES);
    // The store runs the spec's quality checks on the rows it writes: a second reader of the
    // feature rows would make Flink's batch runner serialize every row once more.
    PCollection<PartitionOutcome> outcomes =
        features.apply(
            "OfflineStore",
            OfflineStoreWrite.to(outLocation, spec)
                .forAsOfEpochDays(range.days())
                .withShards(options.getShardsPerPartition())
                .withLineage(lineageJson(files))
                .withToolVersion(Version.tool())
                .withInvalidValues(built.get(BuildFeatures.INVALID_VALUES))
                .withRunId(runId));
    outcomes.apply("RecordOutcomes", RunReport.writeOutcomes(runStaging));
    if (options.getOnlineStore() != null) {
      built.get(BuildFeatures.EVENTS).apply("OnlineStore",
          new OnlineStoreLoad(options.getOnlineStore(), spec, range.endMillis(spec.asOf())));
    }
    built.get(BuildFeatures.QUARANTINED)
        .apply("Quarantine",
            QuarantineWrite.to(RunReport.inFolder(runStaging, RunReport.QUARANTINE_FILE)));
  }

  String lineageJson(List<SourceFile> files) {
    Map<String, Object> lineage = new LinkedHashMap<>();
    lineage.put("source", displaySource());
    if (jdbcSource != null) {
      lineage.put("relation", relation.describe());
      lineage.put("predicate", jdbcSource.predicate());
    }
    if (landed != null) {
      lineage.put("landing", landed.landing().dir().toString());
    }
    List<Map<String, Object>> list = new ArrayList<>();
    for (SourceFile f : files) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("path", f.path());
      m.put("size_bytes", f.sizeBytes());
      m.put("format", f.format().name().toLowerCase(java.util.Locale.ROOT));
      list.add(m);
    }
    lineage.put("files", list);
    lineage.put("as_of_range", range.toString());
    try {
      return new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(lineage);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The source as the report, the lineage and messages show it: never with a password. */
  String displaySource() {
    return jdbc != null ? jdbc.displayUrl() : options.getSource();
  }

  /**
   * Checks the database's columns against the spec (no row read) and returns the read of the
   * run's time range: from the first event time the run needs ({@link
   * AsOfRange#firstNeededMillis}) to its last as-of instant, so that the run's rows are those a
   * file of the same rows gives.
   */
  private JdbcSource checkDatabase() {
    try {
      return JdbcSource.checked(jdbc, relation, spec)
          .withTimeRange(range.firstNeededMillis(spec), range.endMillis(spec.asOf()))
          .withPartitions(options.getJdbcPartitions());
    } catch (java.sql.SQLException e) {
      throw new IllegalArgumentException("--source=" + jdbc.displayUrl() + ": "
          + jdbc.redact(e.getMessage()));
    }
  }

  private static JdbcFeatureTable sinkOf(BatchOptions options, FeatureSpec spec) {
    if (!JdbcTarget.isJdbc(options.getJdbcSink())) {
      throw new IllegalArgumentException("--jdbcSink needs a JDBC URL (jdbc:postgresql://…,"
          + " jdbc:mariadb://…)");
    }
    String env = options.getJdbcSinkPasswordEnv();
    if (env != null && System.getenv(env) == null) {
      throw new IllegalArgumentException("--jdbcSinkPasswordEnv=" + env
          + ": no such environment variable");
    }
    return JdbcFeatureTable.of(JdbcTarget.parse(options.getJdbcSink(), null, env, System::getenv),
        spec);
  }

  /**
   * Creates the feature table or checks that it fits, before any work: a database that cannot
   * be reached or a table that does not fit stops the run as a bad argument does (exit 2).
   */
  private JdbcFeatureTable.Mirror checkSink() {
    try {
      return sink.checkOrCreate();
    } catch (java.sql.SQLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("--jdbcSink=" + sink.displayUrl() + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * Replaces each published date in the feature table, after the pipeline published them all.
   * A failure fails the run (exit 1) naming the date; the dates before it stay committed, the
   * published partitions stand, and a rerun of the range mirrors them again.
   */
  private Map<String, Long> mirror(List<PartitionOutcome> outcomes) {
    try {
      return mirror.replaceAll(outcomes);
    } catch (JdbcFeatureTable.MirrorException e) {
      SinkFailedException failed = new SinkFailedException("--jdbcSink=" + sink.displayUrl()
          + ": " + e.getMessage() + "; the Parquet partitions are published, and a rerun of the"
          + " range mirrors them again");
      failed.addSuppressed(e);
      throw failed;
    }
  }

  /** The feature table could not take a published date; the run fails with exit 1. */
  public static final class SinkFailedException extends RuntimeException {
    SinkFailedException(String message) {
      super(message);
    }
  }

  static AsOfRange rangeOf(BatchOptions o) {
    if (o.getAsOfDate() != null) {
      if (o.getFrom() != null || o.getTo() != null) {
        throw new IllegalArgumentException("give either --asOfDate or --from/--to, not both");
      }
      return AsOfRange.single(date(o.getAsOfDate(), "asOfDate"));
    }
    if (o.getFrom() == null || o.getTo() == null) {
      throw new IllegalArgumentException("give --asOfDate=YYYY-MM-DD or both --from and --to");
    }
    return AsOfRange.of(date(o.getFrom(), "from"), date(o.getTo(), "to"));
  }

  static LocalDate date(String text, String option) {
    try {
      return LocalDate.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("--" + option + "=" + text + " is not a date (YYYY-MM-DD)");
    }
  }

  static String fileGlob(String source) {
    if (source.startsWith("file:")) {
      return source.substring("file:".length());
    }
    if (source.startsWith("jdbc:") || source.startsWith("kafka:")) {
      throw new IllegalArgumentException("--source=" + source.replaceAll("(?i)password=[^&]*",
          "password=***") + ": this command reads files only (file:PATH or file:GLOB)");
    }
    throw new IllegalArgumentException("--source=" + source + " must start with file:");
  }

  private static String required(String value, String option) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("--" + option + " is required");
    }
    return value;
  }
}
