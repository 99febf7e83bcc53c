package dev.featurebeam.io.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.spec.AsOf;
import dev.featurebeam.spec.FeatureSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The layout of the offline store:
 *
 * <pre>
 * ROOT/&lt;feature_set&gt;/v&lt;version&gt;/as_of_date=YYYY-MM-DD/part-NNNNN-of-MMMMM.parquet
 * ROOT/&lt;feature_set&gt;/v&lt;version&gt;/as_of_date=YYYY-MM-DD/_MANIFEST.json
 * ROOT/&lt;feature_set&gt;/v&lt;version&gt;/_runs/&lt;from&gt;_&lt;to&gt;/report.json, quarantine.jsonl
 * ROOT/&lt;feature_set&gt;/v&lt;version&gt;/_LOCK                         (the one-writer lock)
 * ROOT/&lt;feature_set&gt;/v&lt;version&gt;/_staging/&lt;run id&gt;/...   (only while a run writes)
 * ROOT/&lt;feature_set&gt;/v&lt;version&gt;/_streams/&lt;from&gt;_&lt;to&gt;/...  (a checkpointed stream, until it ends)
 * </pre>
 *
 * <p>A partition is published when its folder holds a {@code _MANIFEST.json}.
 */
public final class OfflineStore {
  public static final String MANIFEST = "_MANIFEST.json";
  public static final String STAGING = "_staging";
  /** Each run's report and quarantine: {@code _runs/<from>_<to>/}. */
  public static final String RUNS = "_runs";
  /** Inside a run's staging folder: published folders moved aside by a two-rename swap. */
  static final String TRASH = "_trash";
  /** Inside a run's staging folder: the run's report and quarantine, before they move to _runs. */
  public static final String RUN = "_run";
  /** A checkpointed stream's checkpoints and run staging, kept across restarts: {@code _streams/<from>_<to>/}. */
  public static final String STREAMS = "_streams";

  private static final ObjectMapper JSON = new ObjectMapper();

  private OfflineStore() {}

  /** {@code ROOT/<feature_set>/v<version>}. */
  public static Path versionDir(Path root, FeatureSpec spec) {
    return versionDir(root, spec.featureSet(), spec.version());
  }

  public static Path versionDir(Path root, String featureSet, int version) {
    return root.resolve(featureSet).resolve("v" + version);
  }

  /** {@code VERSION/_streams/<name>}: what a checkpointed stream keeps until it ends. */
  public static Path streamStateDir(Path versionDir, String name) {
    return versionDir.resolve(STREAMS).resolve(name);
  }

  /** {@code VERSION/_staging/<run id>}: everything one run stages. */
  public static Path runStagingDir(Path versionDir, String runId) {
    return versionDir.resolve(STAGING).resolve(runId);
  }

  /** {@code VERSION/_runs/<name>}: a run's report and quarantine. */
  public static Path runFolder(Path versionDir, String name) {
    return versionDir.resolve(RUNS).resolve(name);
  }

  /** Where a two-rename swap parks the old {@code _runs/<name>} while it moves the new one in. */
  public static Path runFolderAside(Path versionDir, String runId, String name) {
    return runStagingDir(versionDir, runId).resolve(TRASH).resolve(RUNS).resolve(name);
  }

  /** {@code ROOT/<feature_set>/v<version>/as_of_date=YYYY-MM-DD}. */
  public static Path partitionDir(Path root, FeatureSpec spec, long asOfEpochDay) {
    return versionDir(root, spec).resolve(partitionName(asOfEpochDay));
  }

  public static Path partitionDir(String root, FeatureSpec spec, long asOfEpochDay) {
    return partitionDir(Paths.get(root), spec, asOfEpochDay);
  }

  /** {@code as_of_date=YYYY-MM-DD}. */
  public static String partitionName(long asOfEpochDay) {
    return FeatureSpec.AS_OF_DATE + "=" + AsOf.utcDate(asOfEpochDay);
  }

  /** {@code part-NNNNN-of-MMMMM.parquet}, numbered from 0. */
  public static String fileName(int shard, int shards) {
    return String.format("part-%05d-of-%05d.parquet", shard, shards);
  }

  /**
   * The shard of an entity: 32-bit FNV-1a over the entity's UTF-8 bytes, taken unsigned modulo
   * {@code shards}. Unlike {@code Object.hashCode()} of arbitrary types, this is fixed by its
   * definition, so every runner, JVM and rerun puts an entity in the same file.
   */
  public static int shardOf(String entity, int shards) {
    int hash = 0x811c9dc5;
    for (byte b : entity.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x01000193;
    }
    return Integer.remainderUnsigned(hash, shards);
  }

  /**
   * The row count recorded in a published partition's manifest, or empty when the partition has
   * never been published. The quality gate compares against it for {@code max_row_count_change}.
   */
  public static OptionalLong readRowCount(Path partitionDir) {
    Path manifest = partitionDir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      return OptionalLong.empty();
    }
    try {
      JsonNode count = JSON.readTree(manifest.toFile()).get("row_count");
      if (count == null || !count.canConvertToLong()) {
        throw new IOException("no row_count in " + manifest);
      }
      return OptionalLong.of(count.asLong());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read manifest " + manifest, e);
    }
  }

  /** {@link #readRowCount(Path)} of a partition given as a location, local or remote. */
  public static OptionalLong readRowCount(String partitionDir) {
    if (!StoreLocation.isRemote(partitionDir)) {
      return readRowCount(StoreLocation.localPath(partitionDir));
    }
    String manifest = StoreLocation.join(partitionDir, MANIFEST);
    try {
      byte[] bytes = StoreLocation.fs(partitionDir).readIfFile(manifest);
      if (bytes == null) {
        return OptionalLong.empty();
      }
      JsonNode count = JSON.readTree(bytes).get("row_count");
      if (count == null || !count.canConvertToLong()) {
        throw new IOException("no row_count in " + manifest);
      }
      return OptionalLong.of(count.asLong());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read manifest " + manifest, e);
    }
  }

  /** {@link #publishedRowCounts(Path)} of a version folder given as a location. */
  public static SortedMap<Long, Long> publishedRowCounts(String versionDir) {
    if (!StoreLocation.isRemote(versionDir)) {
      return publishedRowCounts(StoreLocation.localPath(versionDir));
    }
    SortedMap<Long, Long> counts = new TreeMap<>();
    String prefix = FeatureSpec.AS_OF_DATE + "=";
    try {
      for (String name : StoreLocation.fs(versionDir).list(versionDir)) {
        if (name.startsWith(prefix)) {
          OptionalLong rows = readRowCount(StoreLocation.join(versionDir, name));
          if (rows.isPresent() && rows.getAsLong() > 0) {
            counts.put(LocalDate.parse(name.substring(prefix.length())).toEpochDay(),
                rows.getAsLong());
          }
        }
      }
    } catch (IOException | DateTimeParseException e) {
      throw new IllegalStateException("cannot read the published partitions in " + versionDir, e);
    }
    return counts;
  }

  /** {@link #manifestSha256(Path)} of a partition given as a location. */
  public static Optional<String> manifestSha256(String partitionDir) {
    if (!StoreLocation.isRemote(partitionDir)) {
      return manifestSha256(StoreLocation.localPath(partitionDir));
    }
    try {
      byte[] bytes = StoreLocation.fs(partitionDir).readIfFile(
          StoreLocation.join(partitionDir, MANIFEST));
      return bytes == null ? Optional.empty() : Optional.of(sha256(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read manifest in " + partitionDir, e);
    }
  }

  /** {@code ROOT/<feature_set>/v<version>} of a root given as a location, local or remote. */
  public static String versionLocation(String root, FeatureSpec spec) {
    return StoreLocation.isRemote(root)
        ? StoreLocation.join(root, spec.featureSet(), "v" + spec.version())
        : versionDir(StoreLocation.localPath(root), spec).toString();
  }

  /**
   * The row counts of the non-empty partitions published in a version folder, by as-of epoch day:
   * the baselines of the quality gate's {@code max_row_count_change} for a run's first date. A
   * partition without rows is left out, so the baseline is the nearest earlier one with rows.
   */
  public static SortedMap<Long, Long> publishedRowCounts(Path versionDir) {
    SortedMap<Long, Long> counts = new TreeMap<>();
    if (!Files.isDirectory(versionDir)) {
      return counts;
    }
    String prefix = FeatureSpec.AS_OF_DATE + "=";
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(versionDir, prefix + "*")) {
      for (Path dir : dirs) {
        String date = dir.getFileName().toString().substring(prefix.length());
        OptionalLong rows = readRowCount(dir);
        if (rows.isPresent() && rows.getAsLong() > 0) {
          counts.put(LocalDate.parse(date).toEpochDay(), rows.getAsLong());
        }
      }
    } catch (IOException | DateTimeParseException e) {
      throw new IllegalStateException("cannot read the published partitions in " + versionDir, e);
    }
    return counts;
  }

  /**
   * The sha256 (hex) of a partition's {@code _MANIFEST.json}, or empty when it has none: what a
   * run report records of each partition it published.
   */
  public static Optional<String> manifestSha256(Path partitionDir) {
    Path manifest = partitionDir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      return Optional.empty();
    }
    try {
      return Optional.of(sha256(Files.readAllBytes(manifest)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read manifest " + manifest, e);
    }
  }

  /** The sha256 (hex) of a file's bytes, read as a stream. */
  public static String sha256(Path file) throws IOException {
    MessageDigest digest = sha256Digest();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(sha256Digest().digest(bytes));
  }

  private static MessageDigest sha256Digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Deletes a file or folder tree; a missing path is not an error. */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Deletes a folder only if it is empty. */
  public static void deleteIfEmpty(Path dir) throws IOException {
    try {
      Files.deleteIfExists(dir);
    } catch (DirectoryNotEmptyException | NoSuchFileException e) {
      // Still in use, or gone already: either way not ours to remove.
    }
  }
}
