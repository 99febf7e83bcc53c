package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.PartitionOutcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Waits for every date's outcome, then deletes what this run staged for its partitions (staged
 * folders, old folders left after swaps), and its staging folder and {@code _staging} when nothing
 * else is in them. Never touches another run's staging. Emits the outcomes in date order.
 */
@AutoValue
abstract class RemoveStaging
    extends PTransform<PCollection<PartitionOutcome>, PCollection<PartitionOutcome>> {
  abstract StagingLayout staging();

  /** Removes what the run of {@code staging} staged. */
  static RemoveStaging of(StagingLayout staging) {
    checkNotNull(staging, "no staging layout");
    return new AutoValue_RemoveStaging(staging);
  }

  @Override
  public PCollection<PartitionOutcome> expand(PCollection<PartitionOutcome> outcomes) {
    return outcomes
        .apply("KeyAll", WithKeys.of((Void) null))
        .setCoder(KvCoder.of(VoidCoder.of(), outcomes.getCoder()))
        .apply("AwaitAllDates", GroupByKey.create())
        .apply("DeleteStagedPartitions", ParDo.of(new DeleteFn(staging())))
        .setCoder(outcomes.getCoder());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("stagingDir", staging().runLocation())
        .withLabel("Staging folder"));
  }

  static class DeleteFn extends DoFn<KV<Void, Iterable<PartitionOutcome>>, PartitionOutcome> {
    private final StagingLayout staging;

    DeleteFn(StagingLayout staging) {
      this.staging = staging;
    }

    @ProcessElement
    public void process(
        @Element KV<Void, Iterable<PartitionOutcome>> all, OutputReceiver<PartitionOutcome> out)
        throws IOException {
      List<PartitionOutcome> sorted = new ArrayList<>();
      all.getValue().forEach(sorted::add);
      sorted.sort(Comparator.comparingLong(PartitionOutcome::asOfEpochDay));
      if (staging.remote()) {
        String runDir = staging.runLocation();
        RemoteFs fs = StoreLocation.fs(runDir);
        for (String name : fs.list(runDir)) {
          if (!name.equals(OfflineStore.RUN)) {
            fs.deleteTree(StoreLocation.join(runDir, name));
          }
        }
        fs.deleteIfEmpty(runDir);
        fs.deleteIfEmpty(StoreLocation.join(staging.versionLocation(), OfflineStore.STAGING));
        sorted.forEach(out::output);
        return;
      }
      Path runDir = staging.runDir();
      if (Files.isDirectory(runDir)) {
        List<Path> mine;
        try (Stream<Path> list = Files.list(runDir)) {
          // Partitions and their trash; a driver's run folder (_run) stays for the driver.
          mine = list.filter(p -> !p.getFileName().toString().equals(OfflineStore.RUN))
              .collect(Collectors.toList());
        }
        for (Path p : mine) {
          OfflineStore.deleteRecursively(p);
        }
        OfflineStore.deleteIfEmpty(runDir);
        OfflineStore.deleteIfEmpty(runDir.getParent());
      }
      sorted.forEach(out::output);
    }
  }
}
