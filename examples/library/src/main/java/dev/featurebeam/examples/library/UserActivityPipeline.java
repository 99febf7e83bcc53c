package dev.featurebeam.examples.library;

import dev.featurebeam.io.sink.OfflineStore;
import dev.featurebeam.io.sink.OfflineStoreWrite;
import dev.featurebeam.io.sink.QuarantineWrite;
import dev.featurebeam.io.sink.StoreLock;
import dev.featurebeam.io.sink.StoreRecovery;
import dev.featurebeam.io.source.FileSource;
import dev.featurebeam.io.source.JsonLineParser;
import dev.featurebeam.io.source.SourceContract;
import dev.featurebeam.model.PartitionOutcome;
import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.BuildFeatures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.Validation;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;

/**
 * A Beam pipeline of its own built from FeatureBeam's composites: raw events in, one feature row
 * per user and as-of date out, published to an offline store, and the records that failed
 * validation written to a quarantine file. {@link #build} takes any {@code PCollection} of raw
 * records (the tests give it an in-memory one); {@link #main} reads files.
 */
public final class UserActivityPipeline {
  private UserActivityPipeline() {}

  /** What the pipeline produces, for a caller to assert on or to build on. */
  public record Outputs(
      PCollection<Row> features,
      PCollection<QuarantineRecord> quarantined,
      PCollection<PartitionOutcome> partitions,
      PCollection<Long> quarantineLines) {}

  /** The feature spec, a resource beside this class. */
  public static FeatureSpec spec() {
    try (InputStream in = UserActivityPipeline.class.getResourceAsStream("user_activity.yaml")) {
      return SpecParser.parse(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The features of {@code range}'s dates into the store at {@code storeRoot}, and the records
   * that failed validation into {@code quarantineFile}.
   */
  public static Outputs build(PCollection<RawRecord> records, FeatureSpec spec, AsOfRange range,
      String storeRoot, String quarantineFile) {
    PCollectionTuple built = records.apply("BuildFeatures", BuildFeatures.of(spec, range));
    PCollection<Row> features = built.get(BuildFeatures.FEATURES);
    PCollection<PartitionOutcome> partitions = features.apply("OfflineStore",
        OfflineStoreWrite.to(storeRoot, spec)
            .forAsOfEpochDays(range.days())
            .withInvalidValues(built.get(BuildFeatures.INVALID_VALUES)));
    PCollection<QuarantineRecord> quarantined = built.get(BuildFeatures.QUARANTINED);
    PCollection<Long> quarantineLines =
        quarantined.apply("Quarantine", QuarantineWrite.to(quarantineFile));
    return new Outputs(features, quarantined, partitions, quarantineLines);
  }

  /** JSON lines as raw records, each named {@code name:LINE} as FileSource names a file's. */
  public static List<RawRecord> jsonLines(String name, String text) {
    List<RawRecord> records = new ArrayList<>();
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      records.add(JsonLineParser.parse(name + ":" + (i + 1), lines[i]));
    }
    return records;
  }

  /** The command line's options; Beam's own (e.g. {@code --runner}) come with them. */
  public interface Options extends PipelineOptions {
    @Description("CSV, JSON-lines or Parquet files to read: a path or a glob")
    @Validation.Required
    String getSource();

    void setSource(String source);

    @Description("The offline store's root folder; the quarantine goes to OUT/quarantine.jsonl")
    @Validation.Required
    String getOut();

    void setOut(String out);

    @Description("The first as-of date, YYYY-MM-DD")
    @Validation.Required
    String getFrom();

    void setFrom(String from);

    @Description("The last as-of date, YYYY-MM-DD")
    @Validation.Required
    String getTo();

    void setTo(String to);
  }

  /** {@code --source=GLOB --out=DIR --from=D1 --to=D2}; the DirectRunner unless --runner says. */
  public static void main(String[] args) {
    Options options = PipelineOptionsFactory.fromArgs(args).withValidation().as(Options.class);
    FeatureSpec spec = spec();
    AsOfRange range =
        AsOfRange.of(LocalDate.parse(options.getFrom()), LocalDate.parse(options.getTo()));
    Pipeline p = Pipeline.create(options);
    // Fails at once, naming the file and the field, on a missing file or a header that lacks one.
    SourceContract.check(spec, options.getSource());
    build(p.apply("ReadFiles", FileSource.read(options.getSource())), spec, range,
        options.getOut(), Path.of(options.getOut(), "quarantine.jsonl").toString());
    // One writer at a time per feature set and version; repair what a crashed run left first.
    Path versionDir = OfflineStore.versionDir(Path.of(options.getOut()), spec);
    try (StoreLock lock = StoreLock.acquire(versionDir, "example", true, System.err::println)) {
      StoreRecovery.recover(versionDir);
      PipelineResult.State state = p.run().waitUntilFinish();
      if (state != PipelineResult.State.DONE) {
        throw new IllegalStateException("the pipeline ended " + state);
      }
    }
  }
}
