package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.io.sink.StoreLocation;
import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * The snapshot mode of a training set: each spine row takes its entity's row of the latest
 * published partition whose as-of instant is at or before the row's instant (such a row used only
 * events before that instant, so nothing from at or after the spine's instant). Without such a
 * partition, or when it is older than the staleness limit, every feature is null; when the
 * partition has no row for the entity (no event in its presence window), counts are 0, exists
 * false and the rest null.
 */
final class SnapshotJoin extends PTransform<PCollection<Row>, PCollection<Row>> {
  static final String NAMESPACE = "featurebeam.snapshot";
  static final String FROM_PARTITION = "rows_from_partition";
  static final String NO_ENTITY_ROW = "rows_without_entity_row";
  static final String NO_PARTITION = "rows_without_partition";
  static final String STALE = "rows_stale";

  private final FeatureSpec spec;
  private final String store;
  private final long[] asOfDays;
  private final Long maxStalenessMillis;
  private final Schema out;

  private SnapshotJoin(FeatureSpec spec, String store, long[] asOfDays, Long maxStalenessMillis,
      Schema out) {
    this.spec = spec;
    this.store = store;
    this.asOfDays = asOfDays.clone();
    Arrays.sort(this.asOfDays);
    this.maxStalenessMillis = maxStalenessMillis;
    this.out = out;
  }

  /** {@code store} is the store's root (batch's --out); {@code asOfDays} its published dates. */
  static SnapshotJoin of(FeatureSpec spec, String store, long[] asOfDays,
      Long maxStalenessMillis, Schema out) {
    return new SnapshotJoin(spec, store, asOfDays, maxStalenessMillis, out);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> spine) {
    Schema spineSchema = spine.getSchema();
    int entityIndex = spineSchema.indexOf(TrainingSetPipeline.ENTITY_KEY);
    int instantIndex = spineSchema.indexOf(TrainingSetPipeline.INSTANT);
    List<KV<Long, String>> partitions = new ArrayList<>();
    String version = OfflineStore.versionLocation(store, spec);
    for (long day : asOfDays) {
      partitions.add(KV.of(day, StoreLocation.isRemote(version)
          ? StoreLocation.join(version, OfflineStore.partitionName(day))
          : OfflineStore.partitionDir(store, spec, day).toString()));
    }
    Schema partitionSchema = partitionSchema();
    // One group per entity read in one pass (a runner may not re-iterate a large group): spine
    // rows (0) and partition rows (1).
    KvCoder<String, RawUnionValue> coder = KvCoder.of(StringUtf8Coder.of(),
        UnionCoder.of(List.of(RowCoder.of(spineSchema), RowCoder.of(partitionSchema))));
    PCollection<KV<String, RawUnionValue>> keyedSpine = spine
        .apply("KeySpine", ParDo.of(new DoFn<Row, KV<String, RawUnionValue>>() {
          @ProcessElement
          public void process(@Element Row row, OutputReceiver<KV<String, RawUnionValue>> o) {
            o.output(KV.of(row.getString(entityIndex), new RawUnionValue(0, row)));
          }
        }))
        .setCoder(coder);
    PCollection<KV<String, RawUnionValue>> rows = spine.getPipeline()
        .apply("Partitions", Create.of(partitions)
            .withCoder(KvCoder.of(VarLongCoder.of(), StringUtf8Coder.of())))
        .apply("SpreadPartitions", Reshuffle.viaRandomKey())
        .apply("ReadPartitions", ParDo.of(new ReadPartitionFn(spec, partitionSchema)))
        .setCoder(coder);
    return PCollectionList.of(keyedSpine).and(rows)
        .apply("SpineAndPartitions", Flatten.pCollections())
        .apply("GroupByEntity", GroupByKey.create())
        .apply("PickPartition", ParDo.of(new PickFn(spec, asOfDays, maxStalenessMillis, out,
            instantIndex)))
        .setCoder(RowCoder.of(out));
  }

  /** A partition row as the join carries it: its as-of day, then the features. */
  private Schema partitionSchema() {
    Schema.Builder b = Schema.builder().addInt64Field("as_of_day");
    for (FeatureDef f : spec.features()) {
      b.addNullableField(f.name(), spec.outputType(f));
    }
    return b.build();
  }

  /** A partition's rows by entity: the as-of day and the feature values in the row's types. */
  static final class ReadPartitionFn extends DoFn<KV<Long, String>, KV<String, RawUnionValue>> {
    private final FeatureSpec spec;
    private final Schema schema;

    ReadPartitionFn(FeatureSpec spec, Schema schema) {
      this.spec = spec;
      this.schema = schema;
    }

    @ProcessElement
    public void process(@Element KV<Long, String> partition,
        OutputReceiver<KV<String, RawUnionValue>> o) throws IOException {
      List<FeatureDef> features = spec.features();
      for (GenericRecord r : read(partition.getValue())) {
        List<Object> values = new ArrayList<>(features.size() + 1);
        values.add(partition.getKey());
        for (FeatureDef f : features) {
          Object v = r.get(f.name());
          if (v instanceof CharSequence) {
            v = v.toString();
          } else if (v != null
              && spec.outputType(f).getTypeName() == Schema.TypeName.DATETIME) {
            v = new org.joda.time.Instant((Long) v);
          }
          values.add(v);
        }
        o.output(KV.of(r.get(spec.entity()).toString(),
            new RawUnionValue(1, Row.withSchema(schema).attachValues(values))));
      }
    }
  }

  /**
   * A partition's records through its manifest; a remote one is first copied to a local folder
   * of this worker ({@link PartitionReader#fetch}, which checks each file's sha256), read, and
   * removed.
   */
  static List<GenericRecord> read(String partition) throws IOException {
    if (!StoreLocation.isRemote(partition)) {
      return PartitionReader.read(Path.of(partition));
    }
    Path local = Files.createTempDirectory("featurebeam-partition-");
    try {
      return PartitionReader.read(PartitionReader.fetch(partition, local.resolve("p")));
    } finally {
      try (java.util.stream.Stream<Path> files = Files.walk(local)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  static final class PickFn extends DoFn<KV<String, Iterable<RawUnionValue>>, Row> {
    private final FeatureSpec spec;
    private final long[] asOfDays;
    private final long[] asOfInstants;
    private final Long maxStalenessMillis;
    private final Schema out;
    private final int instantIndex;
    private final Counter fromPartition = Metrics.counter(NAMESPACE, FROM_PARTITION);
    private final Counter noEntityRow = Metrics.counter(NAMESPACE, NO_ENTITY_ROW);
    private final Counter noPartition = Metrics.counter(NAMESPACE, NO_PARTITION);
    private final Counter stale = Metrics.counter(NAMESPACE, STALE);

    PickFn(FeatureSpec spec, long[] asOfDays, Long maxStalenessMillis, Schema out,
        int instantIndex) {
      this.spec = spec;
      this.asOfDays = asOfDays;
      this.asOfInstants = new long[asOfDays.length];
      for (int i = 0; i < asOfDays.length; i++) {
        asOfInstants[i] = spec.asOf().instantOfEpochDay(asOfDays[i]);
      }
      this.maxStalenessMillis = maxStalenessMillis;
      this.out = out;
      this.instantIndex = instantIndex;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<RawUnionValue>> entity,
        OutputReceiver<Row> o) {
      List<Row> spine = new ArrayList<>();
      Map<Long, List<Object>> byDay = new HashMap<>();
      for (RawUnionValue v : entity.getValue()) {
        Row row = (Row) v.getValue();
        if (v.getUnionTag() == 0) {
          spine.add(row);
        } else {
          byDay.put(row.getInt64(0), row.getValues().subList(1, row.getFieldCount()));
        }
      }
      int features = spec.features().size();
      for (Row row : spine) {
        long t = row.getInt64(instantIndex);
        int i = latestAtOrBefore(t);
        List<Object> values;
        if (i < 0) {
          noPartition.inc();
          values = nulls(features);
        } else if (maxStalenessMillis != null && t - asOfInstants[i] > maxStalenessMillis) {
          stale.inc();
          values = nulls(features);
        } else if (byDay.containsKey(asOfDays[i])) {
          fromPartition.inc();
          values = byDay.get(asOfDays[i]);
        } else {
          noEntityRow.inc();
          values = new ArrayList<>(features);
          for (FeatureDef f : spec.features()) {
            switch (f.agg()) {
              case COUNT:
              case COUNT_DISTINCT:
                values.add(0L);
                break;
              case EXISTS:
                values.add(false);
                break;
              default:
                values.add(null);
            }
          }
        }
        List<Object> all = new ArrayList<>(out.getFieldCount());
        all.addAll(row.getValues());
        all.addAll(values);
        o.output(Row.withSchema(out).attachValues(all));
      }
    }

    private static List<Object> nulls(int n) {
      return new ArrayList<>(Arrays.asList(new Object[n]));
    }

    /** The index of the latest as-of instant at or before {@code t}, or -1. */
    private int latestAtOrBefore(long t) {
      int lo = 0;
      int hi = asOfInstants.length;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (asOfInstants[mid] <= t) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo - 1;
    }
  }
}
