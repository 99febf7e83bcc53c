package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.CheckOutcome;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.PartitionVerdict;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Publishes each date whose verdict passed: the manifest is written last into the staged folder,
 * which then takes the published folder's place ({@link FolderSwap}); a rejected date's staged
 * files are deleted and the published partition stays. Emits one {@link PartitionOutcome} per date.
 *
 * <p>On a remote root there is no swap: the manifest, written last into the staged folder, is
 * the date's journal, and {@link RemotePublish} copies the files in with the manifest last.
 *
 * <p>Idempotent, so a retried bundle cannot undo its own work: a date whose published manifest
 * already has the bytes it would write is left as it is.
 */
@AutoValue
abstract class PublishPartitions
    extends PTransform<PCollection<KV<Long, ShardFile>>, PCollection<PartitionOutcome>> {
  private static final TupleTag<ShardFile> FILES = new TupleTag<>("files");
  private static final TupleTag<PartitionVerdict> VERDICTS = new TupleTag<>("verdicts");

  abstract StagingLayout staging();

  abstract FeatureSpec spec();

  // A PTransform's configuration; never serialized, as no runner serializes a composite.
  abstract PCollection<PartitionVerdict> verdicts();

  abstract String lineageJson();

  abstract String toolVersion();

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setStaging(StagingLayout staging);

    abstract Builder setSpec(FeatureSpec spec);

    abstract Builder setVerdicts(PCollection<PartitionVerdict> verdicts);

    abstract Builder setLineageJson(String lineageJson);

    abstract Builder setToolVersion(String toolVersion);

    abstract PublishPartitions build();
  }

  /** Publishes the staged dates that {@code verdicts} pass; lineage {@code {}} unless set. */
  static PublishPartitions judgedBy(
      StagingLayout staging, FeatureSpec spec, PCollection<PartitionVerdict> verdicts) {
    checkNotNull(staging, "no staging layout");
    checkNotNull(spec, "no spec");
    checkNotNull(verdicts, "no verdicts");
    return new AutoValue_PublishPartitions.Builder()
        .setStaging(staging)
        .setSpec(spec)
        .setVerdicts(verdicts)
        .setLineageJson("{}")
        .setToolVersion("unknown")
        .build();
  }

  /** What the run read, a JSON object, copied under "lineage" into each manifest. */
  PublishPartitions withLineage(String lineageJson) {
    Manifest.parseLineage(lineageJson); // fail at construction, not on a worker
    return toBuilder().setLineageJson(lineageJson).build();
  }

  /** The manifests' "tool_version". */
  PublishPartitions withToolVersion(String toolVersion) {
    checkArgument(toolVersion != null && !toolVersion.isEmpty(), "the tool version is empty");
    return toBuilder().setToolVersion(toolVersion).build();
  }

  @Override
  public PCollection<PartitionOutcome> expand(PCollection<KV<Long, ShardFile>> files) {
    PCollection<KV<Long, PartitionVerdict>> byDate =
        verdicts()
            .apply("KeyVerdictsByDate",
                WithKeys.of((PartitionVerdict v) -> v.asOfEpochDay())
                    .withKeyType(TypeDescriptors.longs()))
            .setCoder(KvCoder.of(VarLongCoder.of(), PartitionVerdict.PartitionVerdictCoder.of()));
    return KeyedPCollectionTuple.of(FILES, files)
        .and(VERDICTS, byDate)
        .apply("JoinVerdicts", CoGroupByKey.create())
        .apply("SwapIn", ParDo.of(new PublishFn(staging(), spec(),
            OfflineSchema.avroSchema(spec()).toString(), lineageJson(), toolVersion())))
        .setCoder(PartitionOutcome.PartitionOutcomeCoder.of());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("versionDir", staging().versionLocation())
            .withLabel("Published into"))
        .add(DisplayData.item("toolVersion", toolVersion()).withLabel("Tool version"));
  }

  /** Publishes or rejects one date. */
  static class PublishFn extends DoFn<KV<Long, CoGbkResult>, PartitionOutcome> {
    private final StagingLayout staging;
    private final FeatureSpec spec;
    private final String avroSchemaJson;
    private final String lineageJson;
    private final String toolVersion;
    private final Counter publishedCount = StoreCounters.counter(StoreCounters.PARTITIONS_PUBLISHED);
    private final Counter rejectedCount = StoreCounters.counter(StoreCounters.PARTITIONS_REJECTED);

    PublishFn(StagingLayout staging, FeatureSpec spec, String avroSchemaJson, String lineageJson,
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
      String date = AsOf.utcDate(day);

      List<String> failures = new ArrayList<>();
      if (files.isEmpty()) {
        // A verdict for a date the run did not write: nothing to publish, and nothing to touch.
        failures.add("no feature files were written for as_of_date=" + date);
      } else if (verdicts.size() != 1) {
        failures.add(verdicts.size() + " quality verdicts for as_of_date=" + date + ", expected 1");
      } else {
        for (CheckOutcome c : verdicts.get(0).checks()) {
          if (!c.passed()) {
            failures.add("check " + c.check() + " failed on as_of_date=" + date + ": " + c.detail());
          }
        }
      }
      String publishedLocation = staging.publishedLocation(day);
      if (!failures.isEmpty()) {
        if (staging.remote()) {
          StoreLocation.fs(publishedLocation).deleteTree(staging.stagedLocation(day));
        } else {
          OfflineStore.deleteRecursively(staging.stagedDir(day));
        }
        out.output(PartitionOutcome.of(day, false, rowCount, publishedLocation, failures));
        rejectedCount.inc();
        return;
      }

      byte[] manifest = Manifest.render(spec, day, files, new Schema.Parser().parse(avroSchemaJson),
          lineageJson, verdicts.get(0).checks(), toolVersion);
      if (staging.remote()) {
        publishRemote(day, date, manifest);
      } else {
        publishLocal(day, date, manifest);
      }
      out.output(PartitionOutcome.of(day, true, rowCount, publishedLocation, List.of(),
          OfflineStore.sha256(manifest)));
      publishedCount.inc();
    }

    /** Manifest last into the staged folder, then one swap into place. */
    private void publishLocal(long day, String date, byte[] manifest) throws IOException {
      Path published = staging.publishedDir(day);
      Path staged = staging.stagedDir(day);
      Path publishedManifest = published.resolve(OfflineStore.MANIFEST);
      if (Files.isRegularFile(publishedManifest)
          && Arrays.equals(Files.readAllBytes(publishedManifest), manifest)) {
        // Published already, byte for byte (a retried bundle, or a rerun of the same input).
        OfflineStore.deleteRecursively(staged);
      } else if (Files.isDirectory(staged)) {
        Files.write(staged.resolve(OfflineStore.MANIFEST), manifest);
        StoreFaults.at(StoreFaults.AFTER_MANIFEST, date);
        FolderSwap.replace(staged, published, staging.asideDir(day), date);
      } else {
        throw new IllegalStateException("the staged files of as_of_date=" + date
            + " are gone, and the store does not hold them: " + staged);
      }
    }

    /** The date's journal (its manifest) into the staged folder, then {@link RemotePublish}. */
    private void publishRemote(long day, String date, byte[] manifest) throws IOException {
      String published = staging.publishedLocation(day);
      String staged = staging.stagedLocation(day);
      RemoteFs fs = StoreLocation.fs(published);
      if (Arrays.equals(fs.readIfFile(StoreLocation.join(published, OfflineStore.MANIFEST)),
          manifest)) {
        // Published already, byte for byte: the manifest is copied in only after the files.
        fs.deleteTree(staged);
      } else if (!fs.list(staged).isEmpty()) {
        RemotePublish.publish(fs, staged, published, manifest, date);
      } else {
        throw new IllegalStateException("the staged files of as_of_date=" + date
            + " are gone, and the store does not hold them: " + staged);
      }
    }
  }
}
