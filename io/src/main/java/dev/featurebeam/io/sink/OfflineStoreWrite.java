package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.QualityCheck;
import dev.featurebeam.spec.SpecChecks;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * Writes feature rows ({@link FeatureSpec#outputSchema()}) into the offline store, one Parquet
 * partition per as-of date of the run, and publishes each partition that passes its checks.
 *
 * <pre>{@code
 * PCollection<PartitionOutcome> outcomes =
 *     features.apply(
 *         OfflineStoreWrite.to("/data/features", spec)
 *             .forAsOfEpochDays(days)
 *             .withInvalidValues(invalidValues)
 *             .withShards(4)
 *             .withLineage(lineageJson)
 *             .withToolVersion("0.1.0"));
 * }</pre>
 *
 * <p>Four stages: {@link WriteStagedPartitions} (sorted Parquet files under {@code
 * _staging/<run id>/}, with the checks' statistics of their rows), {@link JudgePartitions} (the
 * quality gate: one verdict per date, failing any date with an invalid value), {@link
 * PublishPartitions} (manifest last, then an atomic swap into place) and {@link RemoveStaging}.
 *
 * <p>The gate runs the spec's {@code quality:} checks ({@link SpecChecks}) unless {@link
 * #withChecks} replaces them. Their {@code max_row_count_change} compares the run's first date
 * with the nearest earlier non-empty partition the store publishes ({@link
 * OfflineStore#publishedRowCounts}), read when the run is judged.
 *
 * <p>Output is byte-identical whatever the input order, parallelism or number of reruns: an entity
 * goes to shard {@link OfflineStore#shardOf}, rows are sorted by entity within a file, and neither
 * the Parquet files nor {@code _MANIFEST.json} hold a timestamp or a run id. Every date of the run
 * gets every shard file, even with no rows.
 *
 * <p>One writer at a time: hold the version folder's {@link StoreLock} around the pipeline's run,
 * and call {@link StoreRecovery#recover} under it first. How it waits for a partition's rows is
 * its {@link Method}: all dates at once on bounded input, date by date as the watermark passes on a
 * stream.
 *
 * <p>The root is a local path (or {@code file://} URI), published by folder swaps, or, for
 * {@link Method#ALL_AT_ONCE}, a remote root such as {@code hdfs://namenode:8020/features} or
 * {@code s3://bucket/features} ({@link StoreLocation}), published through manifests as {@link
 * RemotePublish} describes; both give the same bytes.
 */
@AutoValue
public abstract class OfflineStoreWrite
    extends PTransform<PCollection<Row>, PCollection<PartitionOutcome>> {
  abstract String root();

  abstract FeatureSpec spec();

  abstract List<Long> asOfEpochDays();

  abstract int shards();

  abstract String lineageJson();

  abstract String toolVersion();

  abstract @Nullable PartitionChecks<?> checks();

  // A PTransform's configuration; never serialized, as no runner serializes a composite.
  abstract @Nullable PCollection<InvalidValue> invalidValues();

  abstract @Nullable String runId();

  abstract Method method();

  abstract boolean openEnded();


  abstract Builder toBuilder();

  /**
   * How the store waits for a partition's rows. Both write the same bytes; the tests run each on
   * bounded input and compare.
   */
  public enum Method {
    /** {@link #ALL_AT_ONCE} on bounded input with a last date, {@link #DATE_BY_DATE} otherwise. */
    AUTO,
    /**
     * One grouping in the global window for every date: cheapest on bounded input, where all rows
     * are at hand; it never fires on a stream.
     */
    ALL_AT_ONCE,
    /**
     * Each date in its own event-time window, staged, judged and published once the watermark
     * passes the date's closing time (its as-of instant; a source allows lateness by holding its watermark back), while later
     * dates are still open: what a stream needs. The rows of a date must arrive before it closes
     * (ComputeFeatures emits them just before, held back by its timers).
     */
    DATE_BY_DATE
  }

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setRoot(String root);

    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setAsOfEpochDays(List<Long> days);

    abstract Builder setShards(int shards);

    abstract Builder setLineageJson(String lineageJson);

    abstract Builder setToolVersion(String toolVersion);

    abstract Builder setChecks(PartitionChecks<?> checks);

    abstract Builder setInvalidValues(PCollection<InvalidValue> invalidValues);

    abstract Builder setRunId(String runId);

    abstract Builder setMethod(Method method);

    abstract Builder setOpenEnded(boolean openEnded);


    abstract OfflineStoreWrite build();
  }

  /**
   * Writes under {@code root/<feature_set>/v<version>/}: one file per partition, lineage {@code
   * {}}, tool version "unknown" and the spec's checks unless set; {@link #forAsOfEpochDays} is
   * required.
   */
  public static OfflineStoreWrite to(String root, FeatureSpec spec) {
    checkArgument(root != null && !root.isEmpty(), "the store's root is empty");
    checkArgument(spec != null, "no spec");
    return new AutoValue_OfflineStoreWrite.Builder()
        .setRoot(root)
        .setSpec(spec)
        .setAsOfEpochDays(List.of())
        .setShards(1)
        .setLineageJson("{}")
        .setToolVersion("unknown")
        .setMethod(Method.AUTO)
        .setOpenEnded(false)
        .build();
  }

  /** The as-of dates of the run (days since 1970-01-01); each gets a partition, rows or not. */
  public OfflineStoreWrite forAsOfEpochDays(List<Long> days) {
    checkArgument(days != null && !days.isEmpty(), "no as-of dates");
    return toBuilder().setAsOfEpochDays(List.copyOf(new TreeSet<>(days))).build();
  }

  /**
   * Every as-of date from {@code firstDay} on, without a last one: for a stream that runs until it
   * is stopped. Needs {@link Method#DATE_BY_DATE} (what AUTO picks for it) and unbounded input.
   */
  public OfflineStoreWrite forAsOfEpochDaysFrom(long firstDay) {
    return toBuilder().setAsOfEpochDays(List.of(firstDay)).setOpenEnded(true).build();
  }

  /** How the store waits for a partition's rows; {@link Method#AUTO} unless set. */
  public OfflineStoreWrite withMethod(Method method) {
    checkArgument(method != null, "no method");
    return toBuilder().setMethod(method).build();
  }

  /** Files per partition; 1 unless set. Changing it changes which file holds an entity. */
  public OfflineStoreWrite withShards(int shards) {
    checkArgument(shards >= 1 && shards <= 99_999, "shards must be in 1..99999, got %s", shards);
    return toBuilder().setShards(shards).build();
  }

  /** What the run read, as a JSON object; copied verbatim under "lineage" in each manifest. */
  public OfflineStoreWrite withLineage(String lineageJson) {
    Manifest.parseLineage(lineageJson); // fail at construction, not on a worker
    return toBuilder().setLineageJson(lineageJson).build();
  }

  /** The manifests' "tool_version"; "unknown" unless set. */
  public OfflineStoreWrite withToolVersion(String toolVersion) {
    checkArgument(toolVersion != null && !toolVersion.isEmpty(), "the tool version is empty");
    return toBuilder().setToolVersion(toolVersion).build();
  }

  /**
   * Checks each partition must pass before it is published, instead of the spec's; run on the
   * rows as the store writes them (the rows are read once).
   */
  public OfflineStoreWrite withChecks(PartitionChecks<?> checks) {
    checkArgument(checks != null, "no checks");
    return toBuilder().setChecks(checks).build();
  }

  /**
   * Values the rows could not hold ({@code ComputeFeatures.INVALID_VALUES}): each date with one
   * fails the built-in check {@code values_representable} and is not published.
   */
  public OfflineStoreWrite withInvalidValues(PCollection<InvalidValue> invalidValues) {
    checkArgument(invalidValues != null, "no invalid values");
    return toBuilder().setInvalidValues(invalidValues).build();
  }

  /** Names the run's staging folder; a random UUID unless set. It never appears in the output. */
  public OfflineStoreWrite withRunId(String runId) {
    checkArgument(runId != null && runId.matches("[A-Za-z0-9_.-]+"), "bad run id %s", runId);
    return toBuilder().setRunId(runId).build();
  }

  @Override
  public PCollection<PartitionOutcome> expand(PCollection<Row> input) {
    checkArgument(!asOfEpochDays().isEmpty(),
        "OfflineStoreWrite needs the run's as-of dates: call forAsOfEpochDays");
    checkArgument(input.hasSchema() && input.getSchema().equals(spec().outputSchema()),
        "rows must have the spec's output schema %s, got %s", spec().outputSchema(),
        input.hasSchema() ? input.getSchema() : "rows without a schema");
    StagingLayout staging = new StagingLayout(root(), spec().featureSet(), spec().version(),
        runId() != null ? runId() : UUID.randomUUID().toString());
    PartitionChecks<?> checks = checks() != null ? checks() : SpecChecks.of(spec(),
        asOfEpochDays(), new PublishedRowCounts(staging.versionLocation()));

    if (resolvedMethod(input) == Method.DATE_BY_DATE) {
      checkArgument(!staging.remote(), "a store written date by date (a stream) needs a local"
          + " root; %s is remote", root());
      return dateByDate(input, staging, checks);
    }
    checkArgument(!openEnded(), "a store without a last date needs Method.DATE_BY_DATE");
    PCollection<KV<Long, ShardFile>> files =
        input
            .apply("IntoGlobalWindow", Window.into(new GlobalWindows()))
            .apply("WriteStagedFiles",
                WriteStagedPartitions.of(staging, spec(), asOfEpochDays(), checks)
                    .withShards(shards()));
    JudgePartitions judge = JudgePartitions.by(checks);
    if (invalidValues() != null) {
      judge = judge.withInvalidValues(invalidValues());
    }
    PCollection<PartitionVerdict> verdicts = files.apply("JudgePartitions", judge);
    return files
        .apply("PublishPartitions",
            PublishPartitions.judgedBy(staging, spec(), verdicts)
                .withLineage(lineageJson())
                .withToolVersion(toolVersion()))
        .apply("RemoveStaging", RemoveStaging.of(staging));
  }

  private Method resolvedMethod(PCollection<Row> input) {
    if (method() != Method.AUTO) {
      return method();
    }
    return input.isBounded() == PCollection.IsBounded.BOUNDED && !openEnded()
        ? Method.ALL_AT_ONCE
        : Method.DATE_BY_DATE;
  }

  private PCollection<PartitionOutcome> dateByDate(
      PCollection<Row> input, StagingLayout staging, PartitionChecks<?> checks) {
    List<Long> days = asOfEpochDays();
    long first = days.get(0);
    long last = openEnded() ? Long.MAX_VALUE : days.get(days.size() - 1);
    checkArgument(openEnded() || last - first + 1 == days.size(),
        "Method.DATE_BY_DATE needs consecutive as-of dates");
    DateWindows windows = new DateWindows(spec());
    PCollection<KV<Long, ShardFile>> files =
        input.apply("WriteStagedFiles", new StageAndJudgeByDate.Stage(
            staging, spec(), windows, first, last, shards(), checks));
    PCollection<PartitionVerdict> verdicts =
        files.apply("JudgePartitions",
            new StageAndJudgeByDate.Judge(checks, windows, invalidValues()));
    return files
        .apply("PublishPartitions",
            PublishPartitions.judgedBy(staging, spec(), verdicts)
                .withLineage(lineageJson())
                .withToolVersion(toolVersion()))
        .apply("RemoveStaging", ParDo.of(new StageAndJudgeByDate.RemoveDateStaging(staging)))
        .setCoder(PartitionOutcome.PartitionOutcomeCoder.of());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    List<Long> days = asOfEpochDays();
    builder
        .add(DisplayData.item("root", root()).withLabel("Offline store root"))
        .add(DisplayData.item("featureSet", spec().featureSet() + " v" + spec().version())
            .withLabel("Feature set"))
        .add(DisplayData.item("shards", shards()).withLabel("Files per partition"))
        .add(DisplayData.item("toolVersion", toolVersion()).withLabel("Tool version"))
        .add(DisplayData.item("method", method().name()).withLabel("Method"));
    if (!days.isEmpty()) {
      builder.add(DisplayData.item("asOfDates", AsOf.utcDate(days.get(0)) + ".."
          + (openEnded() ? "" : AsOf.utcDate(days.get(days.size() - 1)) + " (" + days.size()
              + " dates)"))
          .withLabel("As-of dates"));
    }
    String specChecks = spec().quality().stream().map(QualityCheck::description)
        .collect(Collectors.joining("; ", "the spec's quality: ", ""));
    builder.add(DisplayData.item("checks",
            checks() != null ? checks().getClass().getName() : specChecks)
        .withLabel("Partition checks"));
  }

  /** The store's published row counts, the default checks' baselines. */
  private static final class PublishedRowCounts implements SpecChecks.Baselines {
    private final String versionDir;

    PublishedRowCounts(String versionDir) {
      this.versionDir = versionDir;
    }

    @Override
    public Map<Long, Long> rowCounts() {
      return OfflineStore.publishedRowCounts(versionDir);
    }
  }
}
