package dev.featurebeam.io.sink;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;

import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.hadoop.conf.Configuration;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.parquet.hadoop.ParquetWriter;

/**
 * Writes feature rows ({@link FeatureSpec#outputSchema()}) into the offline store, one Parquet
 * partition per as-of date of the run, and publishes each partition whose quality verdict passed.
 *
 * <pre>{@code
 * PCollection<PartitionOutcome> outcomes =
 *     features.apply(
 *         OfflineStoreWrite.to("/data/features", spec)
 *             .forAsOfEpochDays(days)
 *             .withShards(4)
 *             .withLineage(lineageJson)
 *             .withToolVersion("0.1.0")
 *             .withVerdicts(verdicts));
 * }</pre>
 *
 * <p>Output is byte-identical whatever the input order, parallelism or number of reruns: an entity
 * goes to shard {@link OfflineStore#shardOf}, rows are sorted by entity within a file, and neither
 * the Parquet files nor {@code _MANIFEST.json} hold a timestamp or a run id. Every date of the run
 * gets every shard file, even with no rows.
 *
 * <p>Publishing is a swap: the files are written under {@code _staging/<run id>/}, the manifest is
 * written last, then the old partition folder (if any) is moved aside and the staged one moved into
 * place with an atomic rename. A partition whose verdict failed is dropped from staging and the
 * published one stays as it was. The output PCollection holds one {@link PartitionOutcome} per
 * date, emitted only once the run's staging folder has been removed.
 *
 * <p>The offline store is a batch sink: it groups in the global window, so its output appears once
 * the input is complete. The root must be a local (or locally mounted) path.
 */
public class OfflineStoreWrite extends PTransform<PCollection<Row>, PCollection<PartitionOutcome>> {
  private final String root;
  private final FeatureSpec spec;
  private final List<Long> asOfEpochDays;
  private final int shards;
  private final String lineageJson;
  private final String toolVersion;
  private final transient PCollection<PartitionVerdict> verdicts;
  private final PartitionChecks<?> checks;
  private final String runId;

  private OfflineStoreWrite(
      String root,
      FeatureSpec spec,
      List<Long> asOfEpochDays,
      int shards,
      String lineageJson,
      String toolVersion,
      PCollection<PartitionVerdict> verdicts,
      PartitionChecks<?> checks,
      String runId) {
    this.root = root;
    this.spec = spec;
    this.asOfEpochDays = asOfEpochDays;
    this.shards = shards;
    this.lineageJson = lineageJson;
    this.toolVersion = toolVersion;
    this.verdicts = verdicts;
    this.checks = checks;
    this.runId = runId;
  }

  /** Writes under {@code root/<feature_set>/v<version>/}. */
  public static OfflineStoreWrite to(String root, FeatureSpec spec) {
    return new OfflineStoreWrite(root, spec, List.of(), 1, "{}", "unknown", null, null, null);
  }

  /** The as-of dates of the run (days since 1970-01-01); each gets a partition, rows or not. */
  public OfflineStoreWrite forAsOfEpochDays(List<Long> days) {
    return new OfflineStoreWrite(
        root,
        spec,
        List.copyOf(new TreeSet<>(days)),
        shards,
        lineageJson,
        toolVersion,
        verdicts,
        checks,
        runId);
  }

  /** Files per partition; 1 unless set. Changing it changes which file holds an entity. */
  public OfflineStoreWrite withShards(int shards) {
    if (shards < 1 || shards > 99_999) {
      throw new IllegalArgumentException("shards must be in 1..99999, got " + shards);
    }
    return new OfflineStoreWrite(
        root, spec, asOfEpochDays, shards, lineageJson, toolVersion, verdicts, checks, runId);
  }

  /** What the run read, as a JSON object; copied verbatim under "lineage" in each manifest. */
  public OfflineStoreWrite withLineage(String lineageJson) {
    Manifest.parseLineage(lineageJson); // fail at construction, not on a worker
    return new OfflineStoreWrite(
        root, spec, asOfEpochDays, shards, lineageJson, toolVersion, verdicts, checks, runId);
  }

  public OfflineStoreWrite withToolVersion(String toolVersion) {
    return new OfflineStoreWrite(
        root, spec, asOfEpochDays, shards, lineageJson, toolVersion, verdicts, checks, runId);
  }

  /**
   * The quality gate's verdicts, one per as-of date; a date without one is not published. Or
   * {@link #withChecks}.
   */
  public OfflineStoreWrite withVerdicts(PCollection<PartitionVerdict> verdicts) {
    return new OfflineStoreWrite(
        root, spec, asOfEpochDays, shards, lineageJson, toolVersion, verdicts, null, runId);
  }

  /**
   * Runs {@code checks} on the rows as it writes them and publishes the dates they pass; instead
   * of {@link #withVerdicts}, and cheaper: the rows are read once, by the store.
   */
  public OfflineStoreWrite withChecks(PartitionChecks<?> checks) {
    return new OfflineStoreWrite(
        root, spec, asOfEpochDays, shards, lineageJson, toolVersion, null, checks, runId);
  }

  /** Names the run's staging folder; a random UUID unless set. It never appears in the output. */
  public OfflineStoreWrite withRunId(String runId) {
    return new OfflineStoreWrite(
        root, spec, asOfEpochDays, shards, lineageJson, toolVersion, verdicts, checks, runId);
  }

  @Override
  public PCollection<PartitionOutcome> expand(PCollection<Row> input) {
    if (asOfEpochDays.isEmpty()) {
      throw new IllegalArgumentException(
          "OfflineStoreWrite needs the run's as-of dates: call forAsOfEpochDays");
    }
    if (verdicts == null && checks == null) {
      throw new IllegalArgumentException(
          "OfflineStoreWrite needs the quality verdicts or checks: call withVerdicts or withChecks");
    }
    if (!input.hasSchema() || !input.getSchema().equals(spec.outputSchema())) {
      throw new IllegalArgumentException(
          "rows must have the spec's output schema "
              + spec.outputSchema()
              + ", got "
              + (input.hasSchema() ? input.getSchema() : "rows without a schema"));
    }
    Staging staging =
        new Staging(
            root,
            spec.featureSet(),
            spec.version(),
            runId != null ? runId : UUID.randomUUID().toString());

    PCollection<KV<Long, ShardFile>> files =
        input
            .apply("IntoGlobalWindow", Window.into(new GlobalWindows()))
            .apply(
                "WriteStagedShards",
                new WriteStagedShards(staging, spec, asOfEpochDays, shards, checks));

    PCollection<PartitionVerdict> judged =
        verdicts != null ? verdicts : files.apply("JudgePartitions", new JudgePartitions(checks));
    PCollection<KV<Long, PartitionVerdict>> verdictsByDate =
        judged
            .apply("VerdictsIntoGlobalWindow", Window.into(new GlobalWindows()))
            .apply(
                "KeyVerdictsByDate",
                WithKeys.of((PartitionVerdict v) -> v.asOfEpochDay())
                    .withKeyType(TypeDescriptors.longs()))
            .setCoder(KvCoder.of(VarLongCoder.of(), judged.getCoder()));

    PCollection<PartitionOutcome> outcomes =
        KeyedPCollectionTuple.of(PublishFn.FILES, files)
            .and(PublishFn.VERDICTS, verdictsByDate)
            .apply("JoinVerdicts", CoGroupByKey.create())
            .apply(
                "PublishPartitions",
                ParDo.of(
                    new PublishFn(
                        staging,
                        spec,
                        OfflineSchema.avroSchema(spec).toString(),
                        lineageJson,
                        toolVersion)));

    return outcomes.apply("RemoveStaging", new RemoveStaging(staging));
  }

  /** Where a run stages its files, and where they go when published. */
  static final class Staging implements Serializable {
    private final String root;
    private final String featureSet;
    private final int version;
    private final String runId;

    Staging(String root, String featureSet, int version, String runId) {
      this.root = root;
      this.featureSet = featureSet;
      this.version = version;
      this.runId = runId;
    }

    Path versionDir() {
      return OfflineStore.versionDir(Paths.get(root), featureSet, version);
    }

    Path publishedDir(long day) {
      return versionDir().resolve(OfflineStore.partitionName(day));
    }

    Path stagingRoot() {
      return versionDir().resolve(OfflineStore.STAGING);
    }

    Path runDir() {
      return stagingRoot().resolve(runId);
    }

    Path stagedDir(long day) {
      return runDir().resolve(OfflineStore.partitionName(day));
    }

    Path trashDir(long day) {
      return trashDir(runDir(), day);
    }

    static Path trashDir(Path runDir, long day) {
      return runDir.resolve(OfflineStore.TRASH).resolve(OfflineStore.partitionName(day));
    }

    /** The staging folders of other runs, e.g. of a run that crashed. */
    List<Path> otherRunDirs() throws IOException {
      if (!Files.isDirectory(stagingRoot())) {
        return List.of();
      }
      try (Stream<Path> dirs = Files.list(stagingRoot())) {
        return dirs.filter(d -> !d.equals(runDir())).sorted().collect(Collectors.toList());
      }
    }
  }

  /**
   * Groups rows by (as-of date, shard) and writes each group as one sorted Parquet file into
   * staging. Every (date, shard) of the run is a group, so empty shards still get a file.
   */
  static class WriteStagedShards
      extends PTransform<PCollection<Row>, PCollection<KV<Long, ShardFile>>> {

    private final Staging staging;
    private final FeatureSpec spec;
    private final List<Long> days;
    private final int shards;
    private final PartitionChecks<?> checks;

    WriteStagedShards(
        Staging staging, FeatureSpec spec, List<Long> days, int shards, PartitionChecks<?> checks) {
      this.staging = staging;
      this.spec = spec;
      this.days = days;
      this.shards = shards;
      this.checks = checks;
    }

    @Override
    public PCollection<KV<Long, ShardFile>> expand(PCollection<Row> rows) {
      ListCoder<Row> listCoder = ListCoder.of(rows.getCoder());
      KvCoder<KV<Long, Integer>, Encoded<List<Row>>> batchCoder =
          KvCoder.of(KvCoder.of(VarLongCoder.of(), VarIntCoder.of()), Encoded.coder(listCoder));
      PCollection<KV<KV<Long, Integer>, Encoded<List<Row>>>> batches =
          rows.apply(
                  "BatchByDateAndShard",
                  ParDo.of(new BatchRowsFn(shards, BATCH_ROWS, listCoder)))
              .setCoder(batchCoder);

      // Every (date, shard) of the run gets an empty batch as a marker (BatchRowsFn never emits
      // one), so empty shards still get a file. One GroupByKey over both (not a CoGroupByKey):
      // a large CoGbkResult is lazy and would iterate the group twice, which Flink's batch
      // GroupByKey does not allow.
      List<KV<KV<Long, Integer>, Encoded<List<Row>>>> slots = new ArrayList<>();
      Encoded<List<Row>> marker = Encoded.of(List.of(), listCoder);
      for (long day : days) {
        for (int s = 0; s < shards; s++) {
          slots.add(KV.of(KV.of(day, s), marker));
        }
      }
      PCollection<KV<KV<Long, Integer>, Encoded<List<Row>>>> expected =
          rows.getPipeline().apply("EveryDateAndShard", Create.of(slots).withCoder(batchCoder));

      return PCollectionList.of(batches)
          .and(expected)
          .apply("BatchesAndSlots", Flatten.pCollections())
          .apply("GroupByDateAndShard", GroupByKey.create())
          .apply(
              "WriteShardFile",
              ParDo.of(
                  new WriteShardFileFn(
                      staging,
                      spec.entity(),
                      OfflineSchema.avroSchema(spec).toString(),
                      shards,
                      checks)))
          .setCoder(KvCoder.of(VarLongCoder.of(), ShardFile.ShardFileCoder.of()));
    }
  }

  /** Rows per batch: big enough that a shuffle moves few elements, small enough to buffer. */
  static final int BATCH_ROWS = 1000;

  /**
   * Collects rows into batches per (as-of date, shard) and emits a batch when it is full or the
   * bundle ends. The shuffle then sorts and copies a few thousand batches instead of every row,
   * which on Flink's batch runner cost more than writing the Parquet files; encoded, so that it
   * copies them without decoding.
   */
  static class BatchRowsFn extends DoFn<Row, KV<KV<Long, Integer>, Encoded<List<Row>>>> {
    private final int shards;
    private final int batchRows;
    private final ListCoder<Row> listCoder;
    private transient Map<KV<Long, Integer>, List<Row>> open;

    BatchRowsFn(int shards, int batchRows, ListCoder<Row> listCoder) {
      this.shards = shards;
      this.batchRows = batchRows;
      this.listCoder = listCoder;
    }

    @StartBundle
    public void startBundle() {
      open = new HashMap<>();
    }

    @ProcessElement
    public void process(
        @Element Row row, OutputReceiver<KV<KV<Long, Integer>, Encoded<List<Row>>>> out) {
      KV<Long, Integer> slot =
          KV.of(
              row.getLogicalTypeValue(1, java.time.LocalDate.class).toEpochDay(),
              OfflineStore.shardOf(row.getString(0), shards));
      List<Row> batch = open.computeIfAbsent(slot, k -> new ArrayList<>());
      batch.add(row);
      if (batch.size() >= batchRows) {
        out.output(KV.of(slot, Encoded.of(batch, listCoder)));
        open.remove(slot);
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      for (Map.Entry<KV<Long, Integer>, List<Row>> e : open.entrySet()) {
        context.output(
            KV.of(e.getKey(), Encoded.of(e.getValue(), listCoder)),
            GlobalWindow.INSTANCE.maxTimestamp(),
            GlobalWindow.INSTANCE);
      }
      open = null;
    }
  }

  /**
   * Writes one (date, shard) group as {@code part-NNNNN-of-MMMMM.parquet}, rows sorted by entity.
   */
  static class WriteShardFileFn
      extends DoFn<KV<KV<Long, Integer>, Iterable<Encoded<List<Row>>>>, KV<Long, ShardFile>> {
    private final Staging staging;
    private final String entity;
    private final String avroSchemaJson;
    private final int shards;
    private final PartitionChecks<Object> checks;
    private transient Schema avroSchema;
    private transient Configuration hadoopConf;

    @SuppressWarnings("unchecked") // the checks' statistics stay inside them: create, add, encode
    WriteShardFileFn(
        Staging staging,
        String entity,
        String avroSchemaJson,
        int shards,
        PartitionChecks<?> checks) {
      this.staging = staging;
      this.entity = entity;
      this.avroSchemaJson = avroSchemaJson;
      this.shards = shards;
      this.checks = (PartitionChecks<Object>) checks;
    }

    @Setup
    public void setup() {
      avroSchema = new Schema.Parser().parse(avroSchemaJson);
      // One Hadoop configuration for all files: without one, every file's writer builds a
      // Configuration, which parses Hadoop's default XML resources again.
      hadoopConf = new Configuration();
    }

    @ProcessElement
    public void process(
        @Element KV<KV<Long, Integer>, Iterable<Encoded<List<Row>>>> group,
        OutputReceiver<KV<Long, ShardFile>> out)
        throws IOException {
      long day = group.getKey().getKey();
      int shard = group.getKey().getValue();
      List<KV<String, Row>> rows = new ArrayList<>();
      boolean expected = false;
      for (Encoded<List<Row>> encoded : group.getValue()) {
        List<Row> batch = encoded.get();
        expected |= batch.isEmpty();
        for (Row row : batch) {
          rows.add(KV.of(row.getString(0), row)); // the sort key, read once per row
        }
      }
      if (!expected) {
        throw new IllegalArgumentException(
            "feature rows for "
                + OfflineStore.partitionName(day)
                + ", which is not an as-of date of this run");
      }
      // The entity is unique within a date, so this order is total and the file reproducible.
      rows.sort(Comparator.comparing(KV::getKey));
      for (int i = 1; i < rows.size(); i++) {
        if (rows.get(i).getKey().equals(rows.get(i - 1).getKey())) {
          throw new IllegalStateException(
              "two feature rows for "
                  + entity
                  + "="
                  + rows.get(i).getKey()
                  + " on "
                  + OfflineStore.partitionName(day));
        }
      }

      String name = OfflineStore.fileName(shard, shards);
      Path file = staging.stagedDir(day).resolve(name);
      Object stats = checks == null ? null : checks.create();
      Files.createDirectories(file.getParent());
      try (ParquetWriter<Row> writer = RowParquetWriter.open(file, avroSchema, hadoopConf)) {
        for (KV<String, Row> row : rows) {
          writer.write(row.getValue());
          if (stats != null) {
            checks.add(stats, row.getValue());
          }
        }
      } // closing the writer writes the footer
      ParquetFooters.normalize(file);
      byte[] encodedStats =
          stats == null ? new byte[0] : CoderUtils.encodeToByteArray(checks.statsCoder(), stats);
      out.output(KV.of(day, ShardFile.of(name, rows.size(), sha256(file), encodedStats)));
    }
  }

  static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /**
   * Merges the checks' statistics of every staged file per date and judges all dates at once
   * (row-count checks compare a date with the ones before it). A few hundred small elements.
   */
  static class JudgePartitions
      extends PTransform<PCollection<KV<Long, ShardFile>>, PCollection<PartitionVerdict>> {
    private final PartitionChecks<?> checks;

    JudgePartitions(PartitionChecks<?> checks) {
      this.checks = checks;
    }

    @Override
    public PCollection<PartitionVerdict> expand(PCollection<KV<Long, ShardFile>> files) {
      return files
          .apply("KeyAll", WithKeys.of((Void) null))
          .setCoder(KvCoder.of(VoidCoder.of(), files.getCoder()))
          .apply("AwaitAllFiles", GroupByKey.create())
          .apply("Judge", ParDo.of(new JudgeFn(checks)))
          .setCoder(SerializableCoder.of(PartitionVerdict.class));
    }
  }

  static class JudgeFn extends DoFn<KV<Void, Iterable<KV<Long, ShardFile>>>, PartitionVerdict> {
    private final PartitionChecks<Object> checks;

    @SuppressWarnings("unchecked") // see WriteShardFileFn
    JudgeFn(PartitionChecks<?> checks) {
      this.checks = (PartitionChecks<Object>) checks;
    }

    @ProcessElement
    public void process(
        @Element KV<Void, Iterable<KV<Long, ShardFile>>> all, OutputReceiver<PartitionVerdict> out)
        throws IOException {
      List<KV<Long, Object>> partials = new ArrayList<>();
      for (KV<Long, ShardFile> file : all.getValue()) {
        partials.add(KV.of(file.getKey(),
            CoderUtils.decodeFromByteArray(checks.statsCoder(), file.getValue().checkStats())));
      }
      checks.judgePartials(partials).forEach(out::output);
    }
  }

  /**
   * Publishes one date's staged files when its verdict passed (manifest last, then the swap), and
   * drops them otherwise. Emits the date's {@link PartitionOutcome}.
   */
  static class PublishFn extends DoFn<KV<Long, CoGbkResult>, PartitionOutcome> {
    static final TupleTag<ShardFile> FILES = new TupleTag<>("files");
    static final TupleTag<PartitionVerdict> VERDICTS = new TupleTag<>("verdicts");

    private final Staging staging;
    private final FeatureSpec spec;
    private final String avroSchemaJson;
    private final String lineageJson;
    private final String toolVersion;

    PublishFn(
        Staging staging,
        FeatureSpec spec,
        String avroSchemaJson,
        String lineageJson,
        String toolVersion) {
      this.staging = staging;
      this.spec = spec;
      this.avroSchemaJson = avroSchemaJson;
      this.lineageJson = lineageJson;
      this.toolVersion = toolVersion;
    }

    @ProcessElement
    public void process(@Element KV<Long, CoGbkResult> joined, OutputReceiver<PartitionOutcome> out)
        throws IOException {
      long day = joined.getKey();
      List<ShardFile> files = new ArrayList<>();
      joined.getValue().getAll(FILES).forEach(files::add);
      files.sort(Comparator.comparing(ShardFile::name));
      long rowCount = files.stream().mapToLong(ShardFile::rows).sum();
      List<PartitionVerdict> verdicts = new ArrayList<>();
      joined.getValue().getAll(VERDICTS).forEach(verdicts::add);
      Path published = staging.publishedDir(day);
      Path staged = staging.stagedDir(day);

      List<String> failures = new ArrayList<>();
      String date = AsOf.utcDate(day);
      if (files.isEmpty()) {
        // A verdict for a date the run did not write: nothing to publish, and nothing to touch.
        failures.add("no feature files were written for as_of_date=" + date);
      } else if (verdicts.size() != 1) {
        failures.add(verdicts.size() + " quality verdicts for as_of_date=" + date + ", expected 1");
      } else {
        for (CheckOutcome c : verdicts.get(0).checks()) {
          if (!c.passed()) {
            failures.add(
                "check " + c.check() + " failed on as_of_date=" + date + ": " + c.detail());
          }
        }
      }

      restoreInterruptedSwap(day, published);
      if (!failures.isEmpty()) {
        OfflineStore.deleteRecursively(staged);
      } else if (Files.isDirectory(staged)) { // else a retried bundle already swapped it in
        byte[] manifest =
            Manifest.render(
                spec,
                day,
                files,
                new Schema.Parser().parse(avroSchemaJson),
                lineageJson,
                verdicts.get(0).checks(),
                toolVersion);
        Files.write(staged.resolve(OfflineStore.MANIFEST), manifest);
        swapIn(staged, published, staging.trashDir(day));
      }
      out.output(
          PartitionOutcome.of(day, failures.isEmpty(), rowCount, published.toString(), failures));
    }

    /**
     * A run that died between the two renames of a swap left no published partition and the old one
     * in its trash: put that back, so a rejected rerun still leaves the previous partition.
     */
    private void restoreInterruptedSwap(long day, Path published) throws IOException {
      if (Files.exists(published)) {
        return;
      }
      for (Path run : staging.otherRunDirs()) {
        Path trash = Staging.trashDir(run, day);
        if (Files.isDirectory(trash)) {
          Files.move(trash, published, ATOMIC_MOVE);
          return;
        }
      }
    }

    /**
     * Replaces {@code published} by {@code staged} with two renames, so a reader sees either the
     * old partition or the new one, never a mix; the old one is deleted only after the swap.
     */
    private static void swapIn(Path staged, Path published, Path trash) throws IOException {
      boolean hadOld = Files.exists(published);
      if (hadOld) {
        Files.createDirectories(trash.getParent());
        Files.move(published, trash, ATOMIC_MOVE);
      }
      try {
        Files.move(staged, published, ATOMIC_MOVE);
      } catch (IOException e) {
        if (hadOld) {
          Files.move(trash, published, ATOMIC_MOVE); // put the old partition back
        }
        throw e;
      }
      if (hadOld) {
        OfflineStore.deleteRecursively(trash);
      }
    }
  }

  /**
   * Waits for every date's outcome, removes the run's staging folder and what earlier (crashed)
   * runs left staged for the same dates, then {@code _staging} itself when nothing else is in it.
   * Emits the outcomes in date order.
   */
  static class RemoveStaging
      extends PTransform<PCollection<PartitionOutcome>, PCollection<PartitionOutcome>> {
    private final Staging staging;

    RemoveStaging(Staging staging) {
      this.staging = staging;
    }

    @Override
    public PCollection<PartitionOutcome> expand(PCollection<PartitionOutcome> outcomes) {
      return outcomes
          .apply("KeyAll", WithKeys.of((Void) null))
          .setCoder(KvCoder.of(VoidCoder.of(), outcomes.getCoder()))
          .apply("AwaitAllDates", GroupByKey.create())
          .apply("DeleteStagingFolder", ParDo.of(new DeleteStagingFn(staging)))
          .setCoder(outcomes.getCoder());
    }
  }

  static class DeleteStagingFn
      extends DoFn<KV<Void, Iterable<PartitionOutcome>>, PartitionOutcome> {
    private final Staging staging;

    DeleteStagingFn(Staging staging) {
      this.staging = staging;
    }

    @ProcessElement
    public void process(
        @Element KV<Void, Iterable<PartitionOutcome>> all, OutputReceiver<PartitionOutcome> out)
        throws IOException {
      List<PartitionOutcome> sorted = new ArrayList<>();
      all.getValue().forEach(sorted::add);
      sorted.sort(Comparator.comparingLong(PartitionOutcome::asOfEpochDay));
      OfflineStore.deleteRecursively(staging.runDir());
      // This run now owns these dates; another run's leftovers for them are stale.
      for (Path other : staging.otherRunDirs()) {
        for (PartitionOutcome o : sorted) {
          OfflineStore.deleteRecursively(
              other.resolve(OfflineStore.partitionName(o.asOfEpochDay())));
          OfflineStore.deleteRecursively(Staging.trashDir(other, o.asOfEpochDay()));
        }
        OfflineStore.deleteIfEmpty(other.resolve(OfflineStore.TRASH));
        OfflineStore.deleteIfEmpty(other);
      }
      OfflineStore.deleteIfEmpty(staging.stagingRoot());
      sorted.forEach(out::output);
    }
  }
}
