package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.io.sink.QuarantineWrite;
import dev.featurebeam.io.sink.StoreLocation;
import dev.featurebeam.io.source.FileFormat;
import dev.featurebeam.io.source.FileSource;
import dev.featurebeam.io.source.JsonLineParser;
import dev.featurebeam.io.source.SourceContract;
import dev.featurebeam.io.source.SourceFile;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.BundleCounter;
import dev.featurebeam.transforms.CleanEvents;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.DeduplicateEvents;
import dev.featurebeam.transforms.ValidateRecords;
import dev.featurebeam.transforms.features.TrainingSet;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.metrics.MetricResults;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;

/**
 * {@code featurebeam training-set}: a point-in-time join of a spine with the spec's features. In
 * exact mode the events are read, validated, cleaned and de-duplicated as a batch run does, and
 * {@link TrainingSet} computes each spine row's features at its instant; in snapshot mode each row
 * takes the row of the latest published partition at or before its instant. One Parquet file
 * ({@code --out}) holds the spine's columns (as text, a Parquet spine's plain types kept) and the
 * features; its report and quarantine are written beside it. Fails fast, before any pipeline starts, on a bad spec, a spine without
 * its entity or timestamp column, or a source that breaks the spec's contract.
 */
public final class TrainingSetPipeline {
  /** The spine row's cleaned entity and parsed instant ride along under these names. */
  static final String ENTITY_KEY = "_featurebeam_entity";
  static final String INSTANT = "_featurebeam_instant";

  private final TrainingSetOptions options;
  private final FeatureSpec spec;
  private final Path spine;
  private final Path out;
  private final List<String> columns;
  private final Long maxStalenessMillis;

  private TrainingSetPipeline(TrainingSetOptions options) {
    this.options = options;
    Path specFile = Path.of(required(options.getSpec(), "spec"));
    if (!Files.isRegularFile(specFile)) {
      throw new IllegalArgumentException("--spec=" + specFile + ": no such file");
    }
    this.spec = SpecParser.parse(specFile);
    this.spine = Path.of(required(options.getSpine(), "spine")).toAbsolutePath();
    if (!Files.isRegularFile(spine)) {
      throw new IllegalArgumentException("--spine=" + spine + ": no such file");
    }
    this.out = Path.of(required(options.getOut(), "out")).toAbsolutePath();
    if (!out.getFileName().toString().endsWith(".parquet")) {
      throw new IllegalArgumentException("--out=" + options.getOut() + " must end in .parquet");
    }
    String timestamp = required(options.getSpineTimestamp(), "spineTimestamp");
    this.columns = spineColumns(spine);
    requireColumn(spec.entity(), "the spec's entity column");
    requireColumn(timestamp, "--spineTimestamp");
    Set<String> seen = new HashSet<>();
    for (String c : columns) {
      if (!seen.add(c)) {
        throw new IllegalArgumentException("the spine " + spine + " has the column '" + c
            + "' twice");
      }
      for (FeatureDef f : spec.features()) {
        if (f.name().equals(c)) {
          throw new IllegalArgumentException("the spine " + spine + " has a column '" + c
              + "', which is also a feature of the spec: rename one of them");
        }
      }
    }
    if (options.getMode() == TrainingSetOptions.Mode.exact) {
      required(options.getSource(), "source");
      if (options.getStore() != null || options.getMaxStaleness() != null) {
        throw new IllegalArgumentException("--store and --maxStaleness apply to --mode=snapshot");
      }
      this.maxStalenessMillis = null;
    } else {
      required(options.getStore(), "store");
      this.maxStalenessMillis = options.getMaxStaleness() == null ? null
          : Durations.parse("maxStaleness", options.getMaxStaleness()).getMillis();
    }
  }

  public static TrainingSetPipeline of(TrainingSetOptions options) {
    return new TrainingSetPipeline(options);
  }

  public FeatureSpec spec() {
    return spec;
  }

  /** The report beside the training set: FILE.report.json. */
  public Path reportPath() {
    return out.resolveSibling(out.getFileName() + ".report.json");
  }

  /** The quarantined spine rows and events beside the training set: FILE.quarantine.jsonl. */
  public Path quarantinePath() {
    return out.resolveSibling(out.getFileName() + ".quarantine.jsonl");
  }

  private void requireColumn(String column, String what) {
    if (!columns.contains(column)) {
      throw new IllegalArgumentException("the spine " + spine + " has no column '" + column
          + "' (" + what + "); its columns are " + columns);
    }
  }

  /** The spine's columns in order: a CSV header, a first JSON line's keys, a Parquet schema. */
  static List<String> spineColumns(Path spine) {
    FileFormat format = FileFormat.of(spine.toString());
    if (format == FileFormat.PARQUET) {
      List<String> names = new ArrayList<>();
      for (org.apache.avro.Schema.Field f : PartitionReader.schema(spine).getFields()) {
        names.add(f.name());
      }
      return names;
    }
    String first = null;
    try (BufferedReader in = Files.newBufferedReader(spine, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (!line.isBlank()) {
          first = line;
          break;
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the spine " + spine + ": " + e.getMessage());
    }
    if (first == null) {
      throw new IllegalArgumentException("the spine " + spine + " is empty");
    }
    if (format == FileFormat.JSONL) {
      RawRecord r = JsonLineParser.parse(spine + ":1", first);
      if (r.formatError() != null) {
        throw new IllegalArgumentException("cannot read the first line of the spine " + spine
            + ": " + r.formatError());
      }
      return new ArrayList<>(r.fields().keySet());
    }
    try {
      List<CSVRecord> records = CSVFormat.DEFAULT.parse(new StringReader(first)).getRecords();
      List<String> names = new ArrayList<>();
      for (String name : records.get(0).values()) {
        names.add(name.trim());
      }
      return names;
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot read the CSV header of the spine " + spine
          + ": " + e.getMessage());
    }
  }

  /** The spine rows as the pipeline carries them: every column as text, then the key and instant. */
  Schema spineSchema() {
    Schema.Builder b = Schema.builder();
    for (String c : columns) {
      b.addNullableField(c, Schema.FieldType.STRING);
    }
    return b.addStringField(ENTITY_KEY).addInt64Field(INSTANT).build();
  }

  /** Runs the pipeline, then puts the file, its report and its quarantine in place. */
  public TrainingSetReport run() {
    long started = System.currentTimeMillis();
    List<SourceFile> files = List.of();
    long[] asOfDays = new long[0];
    if (options.getMode() == TrainingSetOptions.Mode.exact) {
      try {
        files = SourceContract.check(spec, BatchPipeline.fileGlob(options.getSource()));
      } catch (UncheckedIOException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
    } else {
      if (StoreLocation.isRemote(options.getStore())) {
        // Beam's file systems (S3 and others) and the HDFS configuration, from these options.
        StoreLocation.configure(options);
      }
      asOfDays = publishedDays(OfflineStore.versionLocation(store(), spec));
      if (asOfDays.length == 0) {
        throw new IllegalArgumentException("--store=" + options.getStore() + " holds no published"
            + " partition of " + spec.featureSet() + " v" + spec.version());
      }
    }
    Path staging;
    try {
      Files.createDirectories(out.getParent());
      staging = Files.createTempDirectory(out.getParent(), "." + out.getFileName() + ".");
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot write beside " + out + ": " + e.getMessage());
    }
    try {
      Path stagedFile = staging.resolve(out.getFileName());
      Path stagedQuarantine = staging.resolve("quarantine.jsonl");
      if (options.getRunner() == FlinkRunner.class) {
        // The job's pipelined exchanges deadlock Flink's batch scheduling (FLINK-10672: every
        // task stays CREATED); blocking exchanges run it.
        FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
        if ("PIPELINED".equals(flink.getExecutionModeForBatch())) {
          flink.setExecutionModeForBatch("BATCH_FORCED");
        }
      }
      Pipeline pipeline = Pipeline.create(options);
      build(pipeline, files, asOfDays, stagedFile, stagedQuarantine);
      long checked = System.currentTimeMillis();
      PipelineResult result = run(pipeline);
      long finished = System.currentTimeMillis();
      MetricResults metrics = result.metrics();
      TrainingSetReport report = TrainingSetReport.of(options, spec, files, metrics, out,
          Map.of("pipeline_ms", finished - checked, "total_ms", finished - started));
      if (report.invalidValues() > 0) {
        throw new InvalidValuesException(report.invalidValues());
      }
      Files.write(staging.resolve("report.json"), report.json(stagedFile));
      Files.move(stagedQuarantine, quarantinePath(), StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      Files.move(staging.resolve("report.json"), reportPath(),
          StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.move(stagedFile, out, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      return report;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot put the training set in place at " + out, e);
    } finally {
      try {
        OfflineStore.deleteRecursively(staging);
      } catch (IOException e) {
        // a left-over hidden folder beside the file; the next run makes its own
      }
    }
  }

  /** A value no column can hold: the training set is not written (exit 3, like a failed check). */
  public static final class InvalidValuesException extends RuntimeException {
    InvalidValuesException(long count) {
      super(count + " feature values cannot be represented exactly in their columns (an int64"
          + " sum that overflows, a double sum or average that is not finite); no training set"
          + " is written");
    }
  }

  private static PipelineResult run(Pipeline pipeline) {
    try {
      PipelineResult result = pipeline.run();
      PipelineResult.State state = result.waitUntilFinish();
      if (state != PipelineResult.State.DONE) {
        throw new IllegalStateException("pipeline ended in state " + state);
      }
      return result;
    } catch (RuntimeException e) {
      throw new BatchPipeline.PipelineFailedException(e);
    }
  }

  void build(Pipeline pipeline, List<SourceFile> files, long[] asOfDays, Path file,
      Path quarantine) {
    Schema spineSchema = spineSchema();
    PCollectionTuple parsed = pipeline
        .apply("ReadSpine", FileSource.read(spine.toString()))
        .apply("ParseSpine", ParDo.of(new SpineRows.ParseFn(spec, columns,
                options.getSpineTimestamp(), spineSchema))
            .withOutputTags(SpineRows.ROWS, TupleTagList.of(SpineRows.QUARANTINED)));
    PCollection<Row> spineRows = parsed.get(SpineRows.ROWS).setCoder(RowCoder.of(spineSchema));
    parsed.get(SpineRows.QUARANTINED).setCoder(QuarantineRecord.QuarantineRecordCoder.of());
    TrainingSet join = TrainingSet.of(spec)
        .withSpineEntityField(ENTITY_KEY)
        .withSpineTimestampField(INSTANT);
    Schema rowSchema = join.outputSchema(spineSchema);
    PCollection<Row> rows;
    List<PCollection<QuarantineRecord>> quarantined = new ArrayList<>();
    quarantined.add(parsed.get(SpineRows.QUARANTINED));
    PCollection<InvalidValue> invalid;
    if (options.getMode() == TrainingSetOptions.Mode.exact) {
      PCollection<RawRecord> records = pipeline.apply("ReadEvents",
          FileSource.read(BatchPipeline.fileGlob(options.getSource())));
      PCollectionTuple validated = records.apply("Validate", ValidateRecords.of(spec));
      PCollectionTuple cleaned = validated.get(ValidateRecords.VALID)
          .apply("Clean", CleanEvents.of(spec));
      PCollection<Row> events = cleaned.get(CleanEvents.CLEANED)
          .apply("Deduplicate", DeduplicateEvents.of(spec))
          .apply("CountValid", ParDo.of(new CountValidFn()))
          .setCoder(RowCoder.of(spec.eventSchema()));
      quarantined.add(validated.get(ValidateRecords.QUARANTINED));
      quarantined.add(cleaned.get(CleanEvents.QUARANTINED));
      PCollectionTuple joined = PCollectionTuple.of(TrainingSet.EVENTS, events)
          .and(TrainingSet.SPINE, spineRows)
          .apply("TrainingSet", join);
      rows = joined.get(TrainingSet.ROWS);
      invalid = joined.get(TrainingSet.INVALID_VALUES);
    } else {
      rows = spineRows.apply("Snapshot", SnapshotJoin.of(spec, store(), asOfDays,
          maxStalenessMillis, rowSchema));
      invalid = pipeline.apply("NoInvalidValues",
          Create.empty(InvalidValue.InvalidValueCoder.of()));
    }
    invalid.apply("CountInvalid", ParDo.of(new TrainingFile.CountInvalidFn()));
    Map<String, String> typed = FileFormat.of(spine.toString()) == FileFormat.PARQUET
        ? TrainingFile.typedColumns(PartitionReader.schema(spine)) : Map.of();
    rows.apply("WriteFile", TrainingFile.write(file.toString(), rowSchema, columns, typed,
        spec, spineSchema.indexOf(INSTANT), spineSchema.indexOf(ENTITY_KEY)));
    PCollectionList.of(quarantined)
        .apply("AllQuarantined", Flatten.pCollections())
        .apply("Quarantine", QuarantineWrite.to(quarantine.toString()));
  }

  /** The store's root as a location: a local one absolute, a remote one as given. */
  private String store() {
    String store = options.getStore();
    return StoreLocation.isRemote(store) ? StoreLocation.strip(store)
        : StoreLocation.localPath(store).toAbsolutePath().toString();
  }

  /**
   * The as-of days with a published partition (a manifest), empty ones included, in order, of a
   * version folder given as a location, local or remote.
   */
  static long[] publishedDays(String versionDir) {
    java.util.TreeSet<Long> days = new java.util.TreeSet<>();
    String prefix = dev.featurebeam.spec.FeatureSpec.AS_OF_DATE + "=";
    try {
      for (String name : StoreLocation.list(versionDir)) {
        if (name.startsWith(prefix) && OfflineStore.readRowCount(
            StoreLocation.isRemote(versionDir) ? StoreLocation.join(versionDir, name)
                : Path.of(versionDir, name).toString()).isPresent()) {
          days.add(java.time.LocalDate.parse(name.substring(prefix.length())).toEpochDay());
        }
      }
    } catch (IOException | java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException("cannot read the published partitions in " + versionDir
          + ": " + e.getMessage());
    }
    return days.stream().mapToLong(Long::longValue).toArray();
  }

  /** The valid, de-duplicated events, counted as a batch run counts them ({@code valid}). */
  static final class CountValidFn extends DoFn<Row, Row> {
    private final BundleCounter valid = BundleCounter.of(Counters.VALID);

    @FinishBundle
    public void finishBundle() {
      BundleCounter.flush(valid);
    }

    @ProcessElement
    public void process(@Element Row event, OutputReceiver<Row> out) {
      valid.inc();
      out.output(event);
    }
  }

  static String required(String value, String option) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("--" + option + " is required");
    }
    return value;
  }

  static final String SPINE_NAMESPACE = Counters.NAMESPACE + ".spine";
  static final String SPINE_QUARANTINE_NAMESPACE = Counters.NAMESPACE + ".spine_quarantine";
}
