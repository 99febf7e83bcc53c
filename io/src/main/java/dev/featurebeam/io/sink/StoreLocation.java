package dev.featurebeam.io.sink;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * Where an offline store lives: a local path (plain, or a {@code file://} URI), kept on the local
 * protocol (folder swaps, an OS lock), or a remote root such as {@code hdfs://namenode:8020/features}
 * or {@code s3://bucket/prefix}, reached through {@link RemoteFs} and published by {@link
 * RemotePublish}.
 *
 * <p>HDFS roots ({@code hdfs}, {@code webhdfs}, {@code viewfs}) go through Hadoop's FileSystem API
 * with the configuration Beam's {@code --hdfsConfiguration} gives (or HADOOP_CONF_DIR /
 * YARN_CONF_DIR, which Beam reads when the option is absent; else Hadoop's defaults, which reach
 * a namenode named in the URI). Every other scheme goes through Beam's {@link FileSystems}, which
 * must have a registrar for it on the class path (S3: {@code beam-sdks-java-io-amazon-web-services2},
 * configured by {@code --awsRegion}, {@code --endpoint}, {@code --awsCredentialsProvider} or the
 * AWS SDK's environment).
 */
public final class StoreLocation {
  private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*)://.*");
  private static final List<String> HADOOP_SCHEMES = List.of("hdfs", "webhdfs", "viewfs");
  private static final Map<String, RemoteFs> OPEN = new ConcurrentHashMap<>();

  /** The options Beam last configured its file systems with in this JVM (driver or worker). */
  private static volatile PipelineOptions options;

  private StoreLocation() {}

  /** A URI with a scheme other than {@code file}. */
  public static boolean isRemote(String location) {
    String scheme = scheme(location);
    return scheme != null && !scheme.equals("file");
  }

  /** The local path of a plain path or a {@code file://} URI. */
  public static Path localPath(String location) {
    return "file".equals(scheme(location)) ? Paths.get(URI.create(location)) : Paths.get(location);
  }

  /** {@code dir/name/...} for a remote location (no trailing slash, no "." or ".."). */
  public static String join(String dir, String... names) {
    StringBuilder b = new StringBuilder(strip(dir));
    for (String n : names) {
      b.append('/').append(n);
    }
    return b.toString();
  }

  /** The last segment of a remote location. */
  public static String name(String location) {
    String s = strip(location);
    return s.substring(s.lastIndexOf('/') + 1);
  }

  /** The location without trailing slashes (a bucket root keeps its {@code s3://bucket}). */
  public static String strip(String location) {
    String s = location;
    while (s.endsWith("/") && !s.endsWith("://")) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }

  /**
   * Makes {@code options} the ones remote roots are reached with in this JVM, and registers
   * Beam's file systems with them: a driver calls it before it touches a remote store.
   * Workers get them when the runner configures Beam's file systems ({@link OptionsCapture}).
   */
  public static void configure(PipelineOptions pipelineOptions) {
    FileSystems.setDefaultPipelineOptions(pipelineOptions);
    remember(pipelineOptions);
  }

  static void remember(PipelineOptions pipelineOptions) {
    if (pipelineOptions != options) {
      options = pipelineOptions;
      OPEN.clear();
    }
  }

  static PipelineOptions options() {
    PipelineOptions o = options;
    if (o == null) {
      o = PipelineOptionsFactory.create();
      configure(o);
    }
    return o;
  }

  /** The file operations of a remote location. */
  static RemoteFs fs(String location) {
    String scheme = scheme(location);
    if (scheme == null || scheme.equals("file")) {
      throw new IllegalArgumentException("not a remote location: " + location);
    }
    String s = scheme.toLowerCase(Locale.ROOT);
    if (HADOOP_SCHEMES.contains(s)) {
      URI uri = URI.create(location);
      String key = s + "://" + (uri.getAuthority() == null ? "" : uri.getAuthority());
      return OPEN.computeIfAbsent(key, k -> HadoopRemoteFs.open(uri, options()));
    }
    options(); // Beam's file systems registered at least with defaults
    return OPEN.computeIfAbsent(s, BeamRemoteFs::new);
  }

  // For drivers and steps outside this package: the few file operations they need on a location
  // that may be local or remote.

  /** Writes a file, replacing it (a local one's folder is created). */
  public static void write(String location, byte[] bytes) throws IOException {
    if (isRemote(location)) {
      fs(location).write(location, bytes);
    } else {
      Path p = localPath(location);
      Files.createDirectories(p.toAbsolutePath().getParent());
      Files.write(p, bytes);
    }
  }

  /** A file's bytes, or null when there is no file. */
  public static byte[] readIfFile(String location) throws IOException {
    if (isRemote(location)) {
      return fs(location).readIfFile(location);
    }
    Path p = localPath(location);
    return Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
  }

  /** The names in a folder, sorted; empty when there is none. */
  public static List<String> list(String dir) throws IOException {
    if (isRemote(dir)) {
      return fs(dir).list(dir);
    }
    Path p = localPath(dir);
    if (!Files.isDirectory(p)) {
      return List.of();
    }
    try (java.util.stream.Stream<Path> s = Files.list(p)) {
      return s.map(f -> f.getFileName().toString()).sorted()
          .collect(java.util.stream.Collectors.toList());
    }
  }

  public static void delete(String location) throws IOException {
    if (isRemote(location)) {
      fs(location).delete(location);
    } else {
      Files.deleteIfExists(localPath(location));
    }
  }

  public static void deleteTree(String dir) throws IOException {
    if (isRemote(dir)) {
      fs(dir).deleteTree(dir);
    } else {
      OfflineStore.deleteRecursively(localPath(dir));
    }
  }

  public static void deleteIfEmpty(String dir) throws IOException {
    if (isRemote(dir)) {
      fs(dir).deleteIfEmpty(dir);
    } else {
      OfflineStore.deleteIfEmpty(localPath(dir));
    }
  }

  /**
   * Publishes a run's staged folder (report and quarantine) on a remote root as {@code
   * VERSION/_runs/<name>/}, with {@code reportFile} last, through a journal that recovery rolls
   * forward ({@link RemotePublish}).
   */
  public static void publishRunFolder(String staged, String versionDir, String name,
      String reportFile) throws IOException {
    RemotePublish.publishRunFolder(fs(staged), staged, versionDir, name, reportFile);
  }

  private static String scheme(String location) {
    if (location == null) {
      return null;
    }
    java.util.regex.Matcher m = SCHEME.matcher(location);
    return m.matches() ? m.group(1).toLowerCase(Locale.ROOT) : null;
  }
}
