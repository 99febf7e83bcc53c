package dev.featurebeam.io.sink;

import static com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.auto.value.AutoValue;
import dev.featurebeam.model.QuarantineRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.coders.VoidCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes a run's quarantined records into one JSON-lines file, one object per record with the keys
 * {@code reason, detail, source, payload} in that order, and {@code payload_truncated, payload_length}
 * after them for a record whose payload was kept only in part:
 *
 * <pre>{@code
 * {"reason":"BAD_TYPE:amount","detail":"not a double: abc","source":"events.csv:7","payload":"e7,u1,abc"}
 * }</pre>
 *
 * <p>Lines are sorted by source, then reason, then payload (then detail), so a rerun writes the
 * same bytes. The file is replaced atomically (written beside it, then renamed), and it is written
 * even when there is nothing to quarantine, so a clean rerun clears an old file.
 *
 * <p>No worker holds more than a bounded part of the records: they are spread over {@link
 * #withShards shards} by their source, each shard writes sorted runs of at most {@link
 * #RUN_CHARS} characters into a hidden folder beside the file, and one last step merges every run
 * into the file a line at a time. Beam's sorter extension would sort the shards, but it is not
 * served for Beam 2.62, hence the runs by hand. Returns one element: the number of records written,
 * once the file is in place. For {@link Method#ALL_AT_ONCE} the path may also be remote ({@code
 * hdfs://…}, {@code s3://…}): the runs go beside it on the store, and the file is written in place
 * (the offline store writes it into a run's staging and publishes it with the run's report).
 */
@AutoValue
public abstract class QuarantineWrite
    extends PTransform<PCollection<QuarantineRecord>, PCollection<Long>> {
  /** A shard writes a sorted run when its buffered records hold this many characters. */
  static final long RUN_CHARS = 16L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  abstract String path();

  abstract int shards();

  abstract long runChars();

  abstract Method method();

  abstract Builder toBuilder();

  /** How the records reach the file; both write the same bytes. */
  public enum Method {
    /** {@link #ALL_AT_ONCE} on bounded input, {@link #BUNDLE_RUNS} otherwise. */
    AUTO,
    /** Grouped in the global window and merged once the input is complete: bounded input only. */
    ALL_AT_ONCE,
    /**
     * Each bundle's records written as a sorted run as it finishes, into a folder beside the file
     * ({@link #runsFolder}); {@link #finishRuns} merges them into the file once the stream has
     * stopped. What a stream needs, where the input is never complete.
     */
    BUNDLE_RUNS
  }

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setPath(String path);

    abstract Builder setShards(int shards);

    abstract Builder setRunChars(long runChars);

    abstract Builder setMethod(Method method);

    abstract QuarantineWrite build();
  }

  /** Writes to {@code path}, e.g. {@code OUT/_runs/<run>/quarantine.jsonl}. */
  public static QuarantineWrite to(String path) {
    checkArgument(path != null && !path.isEmpty(), "the quarantine path is empty");
    return new AutoValue_QuarantineWrite.Builder()
        .setPath(path).setShards(16).setRunChars(RUN_CHARS).setMethod(Method.AUTO).build();
  }

  /** Shards that sort records in parallel; 16 unless set. The file is the same for any number. */
  public QuarantineWrite withShards(int shards) {
    checkArgument(shards >= 1, "shards must be at least 1, got %s", shards);
    return toBuilder().setShards(shards).build();
  }

  /** How the records reach the file; {@link Method#AUTO} unless set. */
  public QuarantineWrite withMethod(Method method) {
    checkArgument(method != null, "no method");
    return toBuilder().setMethod(method).build();
  }

  /** Where {@link Method#BUNDLE_RUNS} keeps the runs of the quarantine file {@code path}. */
  public static Path runsFolder(String path) {
    Path target = Paths.get(path).toAbsolutePath();
    return target.resolveSibling("." + target.getFileName() + ".runs");
  }

  /**
   * After a {@link Method#BUNDLE_RUNS} write has stopped: merges its runs into the file (records
   * a replay wrote twice once), deletes them, and returns the records written. Writes an empty
   * file when there are none.
   */
  public static long finishRuns(String path) throws IOException {
    Path runs = runsFolder(path);
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(runs)) {
      try (java.util.stream.Stream<Path> list = Files.list(runs)) {
        list.filter(f -> f.getFileName().toString().endsWith(".run")).sorted().forEach(files::add);
      }
    }
    long written = QuarantineRuns.merge(files, Paths.get(path).toAbsolutePath(), true);
    OfflineStore.deleteRecursively(runs);
    return written;
  }

  /** For tests: write a sorted run every {@code chars} characters of records. */
  QuarantineWrite withRunChars(long chars) {
    checkArgument(chars >= 1, "run size must be positive");
    return toBuilder().setRunChars(chars).build();
  }

  @Override
  public PCollection<Long> expand(PCollection<QuarantineRecord> records) {
    if (method() == Method.BUNDLE_RUNS
        || (method() == Method.AUTO && records.isBounded() == PCollection.IsBounded.UNBOUNDED)) {
      checkArgument(!StoreLocation.isRemote(path()),
          "a quarantine written bundle by bundle (a stream) needs a local path; %s is remote",
          path());
      return records
          .apply("IntoGlobalWindow", Window.into(new GlobalWindows()))
          .apply("WriteBundleRuns", ParDo.of(new QuarantineRuns.WriteBundleRunsFn(runsFolder(path()).toString())))
          .setCoder(VarLongCoder.of());
    }
    boolean remote = StoreLocation.isRemote(path());
    Path target = remote ? null : Paths.get(path()).toAbsolutePath();
    String targetLocation = remote ? path() : target.toString();
    // Unique per expansion: a retried or concurrent write never reads another's runs.
    String runsName = "." + (remote ? StoreLocation.name(path()) : target.getFileName())
        + ".runs-" + UUID.randomUUID();
    String runsDir = remote
        ? StoreLocation.join(path().substring(0, StoreLocation.strip(path()).lastIndexOf('/')),
            runsName)
        : target.resolveSibling(runsName).toString();
    int shards = shards();
    PCollection<String> runs =
        records
            .apply("IntoGlobalWindow", Window.into(new GlobalWindows()))
            .apply("ByShard", WithKeys.of((QuarantineRecord r) -> Math.floorMod(
                r.source().hashCode(), shards)).withKeyType(TypeDescriptors.integers()))
            .setCoder(KvCoder.of(VarIntCoder.of(), QuarantineRecord.QuarantineRecordCoder.of()))
            .apply("GroupByShard", GroupByKey.create())
            .apply("WriteSortedRuns",
                ParDo.of(new QuarantineRuns.WriteRunsFn(runsDir, runChars())))
            .setCoder(StringUtf8Coder.of());
    // An empty marker, so that the merge runs (and clears an old file) with no records at all.
    PCollection<String> marker =
        records.getPipeline().apply("NoRun", Create.of("").withCoder(StringUtf8Coder.of()));
    return PCollectionList.of(runs)
        .and(marker)
        .apply("AllRuns", Flatten.pCollections())
        .apply("KeyAll", WithKeys.of((Void) null))
        .setCoder(KvCoder.of(VoidCoder.of(), StringUtf8Coder.of()))
        .apply("AwaitAllRuns", GroupByKey.create())
        .apply("MergeIntoFile", ParDo.of(new QuarantineRuns.MergeFn(targetLocation, runsDir)))
        .setCoder(VarLongCoder.of());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("path", path()).withLabel("Quarantine file"))
        .add(DisplayData.item("shards", shards()).withLabel("Sorting shards"));
  }

  /** One JSON line per record. */
  public static String toJsonLine(QuarantineRecord r) {
    ObjectNode node = JSON.createObjectNode();
    node.put("reason", r.reason());
    node.put("detail", r.detail());
    node.put("source", r.source());
    node.put("payload", r.payload());
    if (r.payloadTruncated()) {
      node.put("payload_truncated", true);
      node.put("payload_length", r.payloadLength());
    }
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Source, reason, payload, detail: the file's order. */
  static final Comparator<QuarantineRecord> ORDER =
      Comparator.comparing(QuarantineRecord::source)
          .thenComparing(QuarantineRecord::reason)
          .thenComparing(QuarantineRecord::payload)
          .thenComparing(QuarantineRecord::detail)
          .thenComparingLong(QuarantineRecord::payloadLength);
}
