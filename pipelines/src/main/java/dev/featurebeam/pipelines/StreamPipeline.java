package dev.featurebeam.pipelines;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.OfflineStoreWrite;
import dev.featurebeam.io.sink.QuarantineWrite;
import dev.featurebeam.io.source.KafkaSource;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.pipelines.generate.KafkaTarget;
import dev.featurebeam.pipelines.online.OnlineStoreUpdates;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.BuildFeatures;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.QuarantineLateRecords;
import dev.featurebeam.transforms.StageCounts;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import javax.annotation.Nullable;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The stream: read a Kafka topic, quarantine what comes too late, build features with the batch
 * path's composites, and publish each as-of date's partition to the offline store once the
 * watermark has passed its instant plus the allowed lateness: the bytes a batch run over the same
 * events writes. With {@code --to} it stops by itself once that date is out, and writes its report
 * and quarantine into {@code _runs/<from>_<to>/} as a batch run does.
 */
public final class StreamPipeline {
  /** How long the topic check may wait for a broker before the stream refuses to start. */
  static final Duration REACH_TIMEOUT = Duration.standardSeconds(15);

  /** How often the driver looks for the last date's outcome. */
  static final long POLL_MILLIS = 200;

  /** How long the driver waits for the counts of records still in flight when it stops. */
  static final long SETTLE_MILLIS = 5_000;

  /** How long the driver waits for a cancelled stream to stop. */
  static final Duration STOP_WAIT = Duration.standardSeconds(10);

  /**
   * Beside the run's staging, so removed with the staging or the stream's folder: the stream's
   * counts, as its state holds them.
   */
  static final String COUNTS_FILE = "_counts.json";

  private final StreamOptions options;
  private final FeatureSpec spec;
  private final AsOfRange range;
  private final KafkaTarget source;
  private final Path out;
  private final Duration maxOutOfOrderness;
  private final Duration idleTimeout;
  private final Duration allowedLateness;
  private final Consumer<String> notices;
  private final PrintStream progressTo;

  private StreamPipeline(StreamOptions options, Consumer<String> notices, PrintStream progressTo) {
    this.options = options;
    this.notices = notices;
    this.progressTo = progressTo;
    Path specFile = Path.of(options.getSpec());
    if (!Files.isRegularFile(specFile)) {
      throw new IllegalArgumentException("--spec=" + specFile + ": no such file");
    }
    this.spec = SpecParser.parse(specFile);
    if (spec.dedupKey() != null && spec.dedupWithinMillis() == null) {
      throw new IllegalArgumentException("the spec's dedup_key " + spec.dedupKey() + " needs a"
          + " finite dedup_within for a stream (e.g. dedup_within: 1d): its per-key state must"
          + " end");
    }
    LocalDate from = BatchPipeline.date(options.getFrom(), "from");
    this.range = options.getTo() == null
        ? AsOfRange.openEnded(from)
        : AsOfRange.of(from, BatchPipeline.date(options.getTo(), "to"));
    if (!KafkaTarget.isKafka(options.getSource())) {
      throw new IllegalArgumentException("--source=" + options.getSource()
          + ": a stream reads kafka://HOST:PORT/TOPIC");
    }
    this.source = KafkaTarget.parse(options.getSource());
    if (dev.featurebeam.io.sink.StoreLocation.isRemote(options.getOut())) {
      throw new IllegalArgumentException("--out=" + options.getOut() + ": a stream writes its"
          + " store on a local (or locally mounted) folder; hdfs:// and s3:// roots are for batch");
    }
    this.out = dev.featurebeam.io.sink.StoreLocation.localPath(options.getOut()).toAbsolutePath();
    this.maxOutOfOrderness = Durations.parse("maxOutOfOrderness", options.getMaxOutOfOrderness());
    this.idleTimeout = Durations.parse("idleTimeout", options.getIdleTimeout());
    this.allowedLateness = Durations.parse("allowedLateness", options.getAllowedLateness());
    if (options.getShardsPerPartition() < 1) {
      throw new IllegalArgumentException("--shardsPerPartition must be at least 1");
    }
    if (options.getOnlineStore() != null && !DataflowJob.specificationOnly(options)) {
      // Before any work: a store that does not answer stops the stream at once. (A Dataflow job's
      // specification is written without it: only the job's workers would write to it.)
      try (RedisStateStore store = RedisStateStore.open(options.getOnlineStore())) {
        store.ping();
      } catch (IllegalStateException e) {
        throw new IllegalArgumentException("--onlineStore: " + e.getMessage(), e);
      }
    }
  }

  /** {@code notices} hears what the stream waits for and what it repaired. */
  public static StreamPipeline of(StreamOptions options, Consumer<String> notices) {
    return of(options, notices, System.err);
  }

  /** As {@link #of(StreamOptions, Consumer)}; the progress line goes to {@code progressTo}. */
  public static StreamPipeline of(StreamOptions options, Consumer<String> notices,
      PrintStream progressTo) {
    return new StreamPipeline(options, notices, progressTo);
  }

  String runName() {
    return range.isOpenEnded()
        ? LocalDate.ofEpochDay(range.fromDay()) + "_"
        : LocalDate.ofEpochDay(range.fromDay()) + "_" + LocalDate.ofEpochDay(range.toDay());
  }

  public Path runDir() {
    return OfflineStore.runFolder(OfflineStore.versionDir(out, spec), runName());
  }

  /**
   * Checks the topic, takes the store's lock for the stream's life, repairs what an interrupted
   * run left, runs the stream until its last date is out (or it fails), and returns the report.
   */
  public RunReport run() {
    long started = System.currentTimeMillis();
    KafkaSource.checkReachable(source.bootstrap(), source.topic(), REACH_TIMEOUT);
    Path versionDir = OfflineStore.versionDir(out, spec);
    try (StoreSession session = StoreSession.open(versionDir,
        "stream " + range + " from " + options.getSource(), options.getNoWait(), options.getOut(),
        notices)) {
      FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
      StreamCheckpoints checkpoints = StreamCheckpoints.wanted(flink)
          ? StreamCheckpoints.open(versionDir, runName(), spec.sha256() + " " + options.getSource(),
              flink)
          : null;
      Path runStaging = session.runStaging;
      String streamId = session.runId;
      if (checkpoints != null) {
        runStaging = checkpoints.runStaging();
        streamId = checkpoints.streamId;
        if (checkpoints.restoring != null) {
          notices.accept("resuming from the checkpoint " + checkpoints.restoring);
        }
      }
      Files.createDirectories(runStaging);
      RunReport report = runLocked(versionDir, session.runId, streamId, runStaging, started);
      if (checkpoints != null) {
        checkpoints.remove();
      }
      return report;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * With {@code --runner=DataflowRunner --templateLocation=FILE}: builds the graph {@link #run}
   * builds, with the same options, and has the runner write the streaming job's specification to
   * FILE (its staging paths are those of the run id {@value BatchPipeline#SPECIFICATION_RUN_ID}).
   * Neither the broker nor the online store is asked, nothing runs and the store is not locked or
   * changed. Returns FILE.
   */
  public String writeJobSpecification() {
    prepareOptions();
    String runId = BatchPipeline.SPECIFICATION_RUN_ID;
    Path runStaging = OfflineStore.runStagingDir(OfflineStore.versionDir(out, spec), runId)
        .resolve(OfflineStore.RUN);
    Pipeline pipeline = Pipeline.create(options);
    build(pipeline, runStaging, runId, runId,
        runStaging.resolve(RunReport.QUARANTINE_FILE).toString(),
        runStaging.resolveSibling(COUNTS_FILE));
    return DataflowJob.write(pipeline);
  }

  /**
   * The options every start of the stream runs with: streaming, and on the runner it is for, not
   * blocking the driver (which stops the stream once its last date is out) and what the online
   * writer needs of Flink.
   */
  private void prepareOptions() {
    options.as(StreamingOptions.class).setStreaming(true);
    if (DataflowJob.isDirect(options)) {
      options.as(DirectOptions.class).setBlockOnRun(false);
    }
    if (DataflowJob.isFlink(options)) {
      options.as(FlinkPipelineOptions.class).setAttachedMode(false);
      forCheckpoints(options.as(FlinkPipelineOptions.class));
      if (options.getOnlineStore() != null) {
        forOnlineWriter(options);
      }
    }
  }

  /**
   * The Flink setting a checkpointed stream's counts need, on any master (the embedded runner, whose
   * checkpoints the stream keeps itself, or a cluster, which keeps them and restores one after a
   * failure): counts leave a bundle at its end (StageCounts), so each bundle must end before its
   * operator's snapshot, or a restore would replay or lose the counts of a bundle cut in two. It
   * wins over the command line's; a stream without checkpoints is left as it is.
   */
  static void forCheckpoints(FlinkPipelineOptions flink) {
    if (StreamCheckpoints.checkpointing(flink)) {
      flink.setFinishBundleBeforeCheckpointing(true);
    }
  }

  /** The Flink settings the online writer's invariants need; they win over the command line's. */
  static void forOnlineWriter(org.apache.beam.sdk.options.PipelineOptions options) {
    FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
    // The online writer's writes are in Redis at the end of each bundle; Flink must end the
    // bundle before it checkpoints, or a checkpoint could hold a write Redis never got.
    flink.setFinishBundleBeforeCheckpointing(true);
    // The writer changes its keyed state in place: Flink must copy a state a checkpoint is
    // still serializing (see OnlineStoreUpdates.UpdateFn), which --fasterCopy turns off.
    // Object reuse spares the copies between chained operators that --fasterCopy=false would
    // add; no step changes its input.
    flink.setFasterCopy(false);
    flink.setObjectReuse(true);
  }

  private RunReport runLocked(Path versionDir, String runId, String streamId, Path runStaging,
      long started) throws IOException {
    // Run without blocking, so that the driver can stop the stream once its last date is out.
    prepareOptions();
    String quarantine = runStaging.resolve(RunReport.QUARANTINE_FILE).toString();
    Path countsFile = runStaging.resolveSibling(COUNTS_FILE);
    Map<String, Long> totals;
    MetricResults metrics;
    PipelineResult result;
    // A detached Flink job reports no metrics to its result: the live ones are read instead.
    try (LiveMetrics live = LiveMetrics.attach(options, true)) {
      Pipeline pipeline = Pipeline.create(options);
      build(pipeline, runStaging, runId, streamId, quarantine, countsFile);
      try {
        result = pipeline.run();
      } catch (RuntimeException e) {
        throw new BatchPipeline.PipelineFailedException(e);
      }
      live.started(result);
      StreamProgress line = new StreamProgress(range.isOpenEnded() ? 0 : range.days().size(),
          () -> RunReport.readOutcomes(runStaging).stream()
              .filter(PartitionOutcome::published)
              .mapToLong(PartitionOutcome::asOfEpochDay).max().orElse(-1));
      // On a cluster the job outlives this JVM: a Ctrl-C or SIGTERM cancels it on the way out.
      try (CancelOnExit cancelOnExit = CancelOnExit.register(options, result, notices);
          Progress progress = Progress.start(options.getProgress(), progressTo, line,
              live::poll)) {
        awaitLastDate(result, runStaging);
        totals = settledCounts(countsFile);
        metrics = of(live.poll());
        stop(result);
        progress.finish(metrics.allMetrics());
      }
    }
    long finished = System.currentTimeMillis();
    QuarantineWrite.finishRuns(quarantine);
    List<PartitionOutcome> outcomes = RunReport.readOutcomes(runStaging);
    // The event counts come from the stream's state (they survive a restore); tiles and the
    // tiles that came late are statistics of this start's metrics.
    Map<String, Long> counts = RunReport.counters(metrics, Counters.NAMESPACE);
    counts.putAll(StreamCounts.counters(totals));
    RunReport report = RunReport.of(spec, range, options, List.of(), counts,
        StreamCounts.reasons(totals), outcomes, runDir(), Map.of("pipeline_ms",
            finished - started, "total_ms", System.currentTimeMillis() - started));
    report.writeTo(runStaging);
    dev.featurebeam.io.sink.FolderSwap.replace(runStaging, runDir(),
        OfflineStore.runFolderAside(versionDir, runId, runName()), "run");
    return report;
  }

  /** The stream's graph: Kafka, late records, features, the store and the quarantine. */
  void build(Pipeline pipeline, Path runStaging, String runId, String streamId, String quarantine,
      Path countsFile) {
    boolean checkpointed =
        StreamCheckpoints.checkpointing(options.as(FlinkPipelineOptions.class));
    PCollection<RawRecord> records = pipeline.apply("ReadKafka",
        KafkaSource.read(source.bootstrap(), source.topic(), spec)
            .withMaxOutOfOrderness(maxOutOfOrderness)
            .withIdleTimeout(idleTimeout)
            // Lateness is allowed by holding the watermark back: every later stage then closes a
            // date at its as-of instant plus the lateness, by the same clock.
            .withAllowedLateness(allowedLateness)
            // A fresh stream computes from the topic's start, under a group of its own: a group's
            // committed offsets without the state that consumed them would leave earlier events
            // out of every window. A restored one reads on from its checkpoint's offsets, which
            // are committed to its group as checkpoints complete (for monitoring only).
            .withGroupId("featurebeam-" + spec.featureSet() + "-v" + spec.version() + "-"
                + streamId)
            .withCommitOffsetsInFinalize(checkpointed)
            // A restored job would otherwise read messages again (DropReplayedOffsetsFn).
            .withReplayedOffsetsDropped(checkpointed)
            .withStartPosition(KafkaSource.StartPosition.EARLIEST));
    StageCounts counts = StageCounts.create();
    PCollectionTuple timely = records.apply("QuarantineLate",
        QuarantineLateRecords.of(spec, range));
    PCollectionTuple built = timely.get(QuarantineLateRecords.ON_TIME)
        .apply("BuildFeatures", BuildFeatures.of(spec, range).withCounts(counts));
    counts.count(Counters.LATE, timely.get(QuarantineLateRecords.LATE));
    counts.countQuarantined("LateQuarantined", timely.get(QuarantineLateRecords.LATE));
    counts.all(pipeline).apply("Counts", StreamCounts.to(countsFile));
    OfflineStoreWrite store = OfflineStoreWrite.to(out.toString(), spec)
        .withMethod(OfflineStoreWrite.Method.DATE_BY_DATE)
        .withShards(options.getShardsPerPartition())
        .withLineage(lineageJson())
        .withToolVersion(Version.tool())
        .withInvalidValues(built.get(BuildFeatures.INVALID_VALUES))
        .withRunId(runId);
    store = range.isOpenEnded()
        ? store.forAsOfEpochDaysFrom(range.fromDay())
        : store.forAsOfEpochDays(range.days());
    built.get(BuildFeatures.FEATURES)
        .apply("OfflineStore", store)
        .apply("RecordOutcomes", RunReport.writeOutcomeFiles(runStaging));
    if (options.getOnlineStore() != null) {
      built.get(BuildFeatures.CLEANED).apply("OnlineStore",
          OnlineStoreUpdates.to(options.getOnlineStore(), spec)
              .withWatermarkLag(maxOutOfOrderness.plus(allowedLateness))
              .withRangeStart(new Instant(
                  spec.asOf().instantOfEpochDay(range.fromDay()))));
    }
    PCollectionList.<QuarantineRecord>of(built.get(BuildFeatures.QUARANTINED))
        .and(timely.get(QuarantineLateRecords.LATE))
        .apply("AllQuarantined", Flatten.pCollections())
        .apply("Quarantine",
            QuarantineWrite.to(quarantine).withMethod(QuarantineWrite.Method.BUNDLE_RUNS));
  }

  /**
   * Waits until the last date's outcome is written. Without a last date, waits for the stream to
   * end (it is stopped from outside).
   */
  private void awaitLastDate(PipelineResult result, Path runStaging) {
    Long last = range.isOpenEnded() ? null : range.toDay();
    while (true) {
      PipelineResult.State state = result.getState();
      if (last != null && RunReport.readOutcomes(runStaging).stream()
          .anyMatch(o -> o.asOfEpochDay() == last)) {
        return;
      }
      if (state == PipelineResult.State.FAILED || state == PipelineResult.State.CANCELLED
          || state == PipelineResult.State.DONE || state == PipelineResult.State.STOPPED) {
        if (state == PipelineResult.State.FAILED) {
          // waitUntilFinish rethrows the pipeline's own failure.
          try {
            result.waitUntilFinish(Duration.standardSeconds(5));
          } catch (RuntimeException e) {
            throw new BatchPipeline.PipelineFailedException(e);
          }
        }
        throw new BatchPipeline.PipelineFailedException(
            new IllegalStateException("the stream ended in state " + state
                + " before its last date was published"));
      }
      sleep();
    }
  }

  /**
   * The counts once every record read has reached a count, or as they are after {@link
   * #SETTLE_MILLIS}: records read after the last date closed may still be held (the report counts
   * them as in flight); they can change no published partition.
   */
  private static Map<String, Long> settledCounts(Path countsFile) {
    long deadline = System.currentTimeMillis() + SETTLE_MILLIS;
    while (true) {
      Map<String, Long> totals = StreamCounts.read(countsFile);
      if ((!totals.isEmpty() && RunReport.unaccounted(StreamCounts.counters(totals)) == 0)
          || System.currentTimeMillis() > deadline) {
        return totals;
      }
      sleep();
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(POLL_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the stream ran", e);
    }
  }

  /** Cancels the stream and waits a moment for it to stop writing. */
  private static void stop(PipelineResult result) {
    try {
      result.cancel();
    } catch (IOException | UnsupportedOperationException e) {
      throw new BatchPipeline.PipelineFailedException(
          new IllegalStateException("cannot stop the stream: " + e.getMessage(), e));
    }
    // Polled: a detached Flink job's waitUntilFinish waits out its whole timeout.
    long deadline = System.currentTimeMillis() + STOP_WAIT.getMillis();
    while (System.currentTimeMillis() < deadline) {
      PipelineResult.State state;
      try {
        state = result.getState();
      } catch (RuntimeException e) {
        return; // the job is gone
      }
      if (state != null && state.isTerminal()) {
        return;
      }
      sleep();
    }
  }

  /** Metrics that answer every query with the given results (the report filters them). */
  private static MetricResults of(@Nullable MetricQueryResults results) {
    MetricQueryResults all = results != null ? results
        : MetricQueryResults.create(List.of(), List.of(), List.of(), List.of());
    return new MetricResults() {
      @Override
      public MetricQueryResults queryMetrics(@Nullable MetricsFilter filter) {
        return all;
      }
    };
  }

  /**
   * What the stream read, as the batch run writes its lineage: {@code source}, then {@code
   * as_of_range} (no files). Jackson escapes what the source may hold; the manifest re-reads it.
   */
  String lineageJson() {
    Map<String, Object> lineage = new LinkedHashMap<>();
    lineage.put("source", options.getSource());
    lineage.put("as_of_range", range.toString());
    try {
      return new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(lineage);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
