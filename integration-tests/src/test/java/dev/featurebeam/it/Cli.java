package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.pipelines.FeatureBeamCli;
import dev.featurebeam.pipelines.generate.EventGenerator;
import dev.featurebeam.pipelines.generate.GeneratorConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Drives {@link FeatureBeamCli#run} in-process and inspects what it leaves on disk: the one place
 * the end-to-end tests find fixtures, runner configs and output folders.
 */
final class Cli {
  static final String DIRECT = "direct.args";
  static final String FLINK_LOCAL = "flink-local.args";

  private static final ObjectMapper JSON = new ObjectMapper();

  private Cli() {}

  /** What one command did: its exit status and everything it printed. */
  record Result(int exit, String out, String err, String[] args) {
    /** Non-blank lines of standard error. */
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).collect(Collectors.toList());
    }

    /** Lines of standard output, the trailing newline not making an empty last line. */
    List<String> outLines() {
      return out.lines().collect(Collectors.toList());
    }

    /** For assertion messages: the command and what it printed. */
    String describe() {
      return "featurebeam " + String.join(" ", args) + "\n  exit " + exit + "\n--- stdout:\n" + out
          + "--- stderr:\n" + err;
    }

    Result assertExit(int expected) {
      assertThat(describe(), exit, is(expected));
      return this;
    }
  }

  /** Runs one command line, capturing its output. */
  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      exit = FeatureBeamCli.run(args, o, e);
    }
    return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
        args);
  }

  /**
   * {@code featurebeam batch} on one runner config with the progress line off; {@code extra} holds
   * the dates and any further options ({@code --asOfDate=D}, {@code --from=..}, {@code --parallelism=2}).
   */
  static Result batch(String runnerConfig, Path spec, Path source, Path out, String... extra) {
    long started = System.nanoTime();
    Result r = run(batchArgs(runnerConfig, spec, source, out, extra));
    // Goes to target/surefire-reports/*-output.txt: where the module's time goes.
    System.out.printf("batch on %s %s: exit %d in %.1f s%n", runnerConfig,
        String.join(" ", Arrays.asList(extra)), r.exit(), (System.nanoTime() - started) / 1e9);
    return r;
  }

  /** {@link #batch} into a store given as a location: a remote root such as hdfs://… or s3://…. */
  static Result batch(String runnerConfig, Path spec, Path source, String out, String... extra) {
    long started = System.nanoTime();
    Result r = run(batchArgs(runnerConfig, spec, source, out, extra));
    System.out.printf("batch on %s into %s %s: exit %d in %.1f s%n", runnerConfig, out,
        String.join(" ", Arrays.asList(extra)), r.exit(), (System.nanoTime() - started) / 1e9);
    return r;
  }

  /** The arguments of {@code featurebeam batch} as {@link #batch} passes them. */
  static String[] batchArgs(String runnerConfig, Path spec, Path source, Path out, String... extra) {
    return batchArgs(runnerConfig, spec, source, out.toString(), extra);
  }

  static String[] batchArgs(String runnerConfig, Path spec, Path source, String out,
      String... extra) {
    List<String> args = new ArrayList<>(List.of(
        "batch",
        "--spec=" + spec,
        "--source=file:" + source,
        "--out=" + out,
        "--runnerConfig=" + runnerConfig(runnerConfig),
        "--progress=false"));
    args.addAll(Arrays.asList(extra));
    return args.toArray(new String[0]);
  }

  /**
   * Checks a partition as a reader that trusts only manifests would: its {@code _MANIFEST.json}
   * lists exactly the folder's Parquet files, with their row counts and sha256; returns its rows.
   */
  static long assertReadable(Path partitionDir) throws IOException {
    JsonNode manifest = readJson(partitionDir.resolve("_MANIFEST.json"));
    List<String> listed = new ArrayList<>();
    long rows = 0;
    for (JsonNode f : manifest.get("files")) {
      String name = f.get("name").asText();
      listed.add(name);
      assertThat(partitionDir + "/" + name, sha256(partitionDir.resolve(name)),
          is(f.get("sha256").asText()));
      rows += f.get("rows").asLong();
    }
    try (Stream<Path> files = Files.list(partitionDir)) {
      List<String> present = files.map(p -> p.getFileName().toString())
          .filter(n -> !n.equals("_MANIFEST.json")).sorted().collect(Collectors.toList());
      assertThat(partitionDir.toString(), present, is(listed));
    }
    assertThat(partitionDir.toString(), manifest.get("row_count").asLong(), is(rows));
    return rows;
  }

  /** {@code featurebeam show DIR}. */
  static Result show(Path partitionDir) {
    return run("show", partitionDir.toString());
  }

  /**
   * The repository's {@code runners-config/NAME}, found from the working directory upwards (Maven
   * runs the tests in the module folder, an IDE may run them from the repository root).
   */
  static Path runnerConfig(String name) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("runners-config").resolve(name);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no runners-config/" + name + " above " + Path.of("").toAbsolutePath());
  }

  /** A test resource under {@code src/test/resources/fixtures/}, as a file path. */
  static Path fixture(String name) {
    URL url = Cli.class.getResource("/fixtures/" + name);
    if (url == null) {
      throw new IllegalStateException("no test resource fixtures/" + name);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the generator's events as CSV; {@code options} are generator options by name. */
  static Path generate(Path target, Map<String, String> options) throws IOException {
    GeneratorConfig.Builder b = GeneratorConfig.builder();
    options.forEach(b::set);
    EventGenerator.write(b.build(), target);
    return target;
  }

  /** The same CSV with its data lines in a seeded random order (header first, same bytes per line). */
  static Path shuffledCopy(Path csv, Path target, long seed) throws IOException {
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    List<String> data = new ArrayList<>(lines.subList(1, lines.size()));
    Collections.shuffle(data, new Random(seed));
    List<String> out = new ArrayList<>();
    Files.createDirectories(target.toAbsolutePath().getParent());
    out.add(lines.get(0));
    out.addAll(data);
    Files.write(target, out, StandardCharsets.UTF_8);
    return target;
  }

  /** {@code OUT/<feature_set>/v<version>}. */
  static Path versionDir(Path out, String featureSet, int version) {
    return out.resolve(featureSet).resolve("v" + version);
  }

  /** {@code OUT/<feature_set>/v<version>/as_of_date=D}. */
  static Path partitionDir(Path out, String featureSet, int version, String date) {
    return versionDir(out, featureSet, version).resolve("as_of_date=" + date);
  }

  /** {@code OUT/<feature_set>/v<version>/_runs/<from>_<to>}. */
  static Path runDir(Path out, String featureSet, int version, String from, String to) {
    return versionDir(out, featureSet, version).resolve("_runs").resolve(from + "_" + to);
  }

  /**
   * Every file and folder under {@code root}, by path relative to it ('/'-separated): a folder maps
   * to "dir", a file to the sha256 of its bytes. Equal snapshots mean the same tree, same bytes.
   */
  static SortedMap<String, String> snapshot(Path root) throws IOException {
    SortedMap<String, String> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (p.equals(root)) {
          continue;
        }
        String rel = root.relativize(p).toString().replace('\\', '/');
        out.put(rel, Files.isDirectory(p) ? "dir" : sha256(p));
      }
    }
    return out;
  }

  /** The snapshot's entries whose paths pass {@code keep}. */
  static SortedMap<String, String> only(SortedMap<String, String> snap,
      java.util.function.Predicate<String> keep) {
    SortedMap<String, String> out = new TreeMap<>();
    snap.forEach((k, v) -> {
      if (keep.test(k)) {
        out.put(k, v);
      }
    });
    return out;
  }

  static boolean isParquetPart(String relPath) {
    String name = relPath.substring(relPath.lastIndexOf('/') + 1);
    return name.startsWith("part-") && name.endsWith(".parquet");
  }

  static String sha256(Path file) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode readJson(Path file) throws IOException {
    return JSON.readTree(file.toFile());
  }

  /** One JSON object per non-blank line. */
  static List<JsonNode> readJsonLines(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        out.add(JSON.readTree(line));
      }
    }
    return out;
  }

  /** Folders named {@code as_of_date=*} anywhere under {@code root} (none when it does not exist). */
  static List<Path> partitionFolders(Path root) throws IOException {
    if (!Files.exists(root)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(Files::isDirectory)
          .filter(p -> p.getFileName().toString().startsWith("as_of_date="))
          .sorted()
          .collect(Collectors.toList());
    }
  }
}
