package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.PartitionChecks;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetWriter;

/**
 * Writes feature rows into their run's staging folder: one sorted Parquet file per (as-of date,
 * shard), every (date, shard) of the run included, so an empty shard still gets a file. Emits each
 * file's name, row count, sha256 and the checks' statistics of its rows, keyed by date.
 */
@AutoValue
abstract class WriteStagedPartitions
    extends PTransform<PCollection<Row>, PCollection<KV<Long, ShardFile>>> {
  /** Rows per batch: big enough that a shuffle moves few elements, small enough to buffer. */
  static final int BATCH_ROWS = 1000;

  abstract StagingLayout staging();

  abstract FeatureSpec spec();

  abstract List<Long> asOfEpochDays();

  abstract PartitionChecks<?> checks();

  abstract int shards();

  /** Stages the partitions of {@code asOfEpochDays}, one file each unless {@link #withShards}. */
  static WriteStagedPartitions of(StagingLayout staging, FeatureSpec spec, List<Long> asOfEpochDays,
      PartitionChecks<?> checks) {
    checkNotNull(staging, "no staging layout");
    checkNotNull(spec, "no spec");
    checkArgument(asOfEpochDays != null && !asOfEpochDays.isEmpty(), "no as-of dates");
    checkNotNull(checks, "no checks");
    return new AutoValue_WriteStagedPartitions(staging, spec, List.copyOf(asOfEpochDays), checks, 1);
  }

  /** Files per partition; an entity goes to file {@link OfflineStore#shardOf}. */
  WriteStagedPartitions withShards(int shards) {
    checkArgument(shards >= 1 && shards <= 99_999, "shards must be in 1..99999, got %s", shards);
    return new AutoValue_WriteStagedPartitions(staging(), spec(), asOfEpochDays(), checks(), shards);
  }

  @Override
  public PCollection<KV<Long, ShardFile>> expand(PCollection<Row> rows) {
    ListCoder<Row> listCoder = ListCoder.of(rows.getCoder());
    KvCoder<KV<Long, Integer>, Encoded<List<Row>>> batchCoder =
        KvCoder.of(KvCoder.of(VarLongCoder.of(), VarIntCoder.of()), Encoded.coder(listCoder));
    PCollection<KV<KV<Long, Integer>, Encoded<List<Row>>>> batches =
        rows.apply("BatchByDateAndShard",
                ParDo.of(new BatchRowsFn(shards(), BATCH_ROWS, listCoder)))
            .setCoder(batchCoder);

    // Every (date, shard) of the run gets an empty batch as a marker (BatchRowsFn never emits
    // one), so empty shards still get a file. One GroupByKey over both (not a CoGroupByKey):
    // a large CoGbkResult is lazy and would iterate the group twice, which Flink's batch
    // GroupByKey does not allow.
    List<KV<KV<Long, Integer>, Encoded<List<Row>>>> slots = new ArrayList<>();
    Encoded<List<Row>> marker = Encoded.of(List.of(), listCoder);
    for (long day : asOfEpochDays()) {
      for (int s = 0; s < shards(); s++) {
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
                    staging(), spec().entity(), OfflineSchema.avroSchema(spec()).toString(),
                    shards(), checks())))
        .setCoder(KvCoder.of(VarLongCoder.of(), ShardFile.ShardFileCoder.of()));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("stagingDir", staging().runLocation())
            .withLabel("Staging folder"))
        .add(DisplayData.item("dates", asOfEpochDays().size()).withLabel("As-of dates"))
        .add(DisplayData.item("shards", shards()).withLabel("Files per partition"))
        .add(DisplayData.item("checks", checks().getClass().getName())
            .withLabel("Statistics of the partition checks"));
  }

  /**
   * Collects rows into batches per (as-of date, shard) and emits a batch when it is full or the
   * bundle ends, so that the shuffle sorts and copies a few thousand batches instead of every row;
   * encoded, so that it copies them without decoding.
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

  /** Writes one (date, shard) group as {@code part-NNNNN-of-MMMMM.parquet}, rows sorted by entity. */
  static class WriteShardFileFn
      extends DoFn<KV<KV<Long, Integer>, Iterable<Encoded<List<Row>>>>, KV<Long, ShardFile>> {
    private final StagingLayout staging;
    private final String entity;
    private final String avroSchemaJson;
    private final int shards;
    private final PartitionChecks<Object> checks;
    private final Counter filesStaged = StoreCounters.counter(StoreCounters.FILES_STAGED);
    private transient Schema avroSchema;
    private transient Configuration hadoopConf;

    @SuppressWarnings("unchecked") // the checks' statistics stay inside them: create, add, encode
    WriteShardFileFn(
        StagingLayout staging,
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
              "two feature rows for " + entity + "=" + rows.get(i).getKey() + " on "
                  + OfflineStore.partitionName(day));
        }
      }

      String name = OfflineStore.fileName(shard, shards);
      // A remote root gets the file written locally first (the same writer, the same bytes; the
      // footer is normalized in place), then uploaded whole.
      Path file = staging.remote() ? Files.createTempFile("featurebeam-stage-", ".parquet")
          : staging.stagedDir(day).resolve(name);
      try {
        Object stats = checks.create();
        Files.createDirectories(file.getParent());
        try (ParquetWriter<Row> writer = RowParquetWriter.open(file, avroSchema, hadoopConf)) {
          for (KV<String, Row> row : rows) {
            writer.write(row.getValue());
            checks.add(stats, row.getValue());
          }
        } // closing the writer writes the footer
        ParquetFooters.normalize(file);
        byte[] encodedStats = CoderUtils.encodeToByteArray(checks.statsCoder(), stats);
        String sha256 = OfflineStore.sha256(file);
        if (staging.remote()) {
          String target = StoreLocation.join(staging.stagedLocation(day), name);
          StoreLocation.fs(target).upload(file, target);
        }
        out.output(KV.of(day, ShardFile.of(name, rows.size(), sha256, encodedStats)));
      } finally {
        if (staging.remote()) {
          Files.deleteIfExists(file);
        }
      }
      filesStaged.inc();
    }
  }
}
