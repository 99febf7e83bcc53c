package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;

import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.io.sink.StoreFaults;
import dev.featurebeam.io.sink.StoreLocation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The offline store on a remote root (HDFS, S3: the subclasses start the server), against the
 * same runs on a local disk: the partitions' bytes are the same, a rerun replaces them whole, and
 * a run killed while it publishes leaves every other partition readable through its manifest and
 * is completed by the next run.
 */
abstract class RemoteStoreTest {
  static final String FS = "user_features";
  static final String FROM = "2025-01-07";
  static final String RERUN_FROM = "2025-01-08";
  static final String TO = "2025-01-11";
  static final String CRASH_DATE = "2025-01-10";
  static final List<String> DATES =
      List.of("2025-01-07", "2025-01-08", "2025-01-09", "2025-01-10", "2025-01-11");

  /** The local runs the remote ones are held to, made once per JVM. */
  private static Path refs;

  @TempDir Path tmp;

  /** A fresh store root on the server, e.g. {@code hdfs://localhost:PORT/NAME}. */
  abstract String root(String name);

  /** The command-line options that reach the server (Beam's options for its file system). */
  abstract List<String> storeOptions();

  /** Whether a killed run leaves a lock file on the store (HDFS's own lock does). */
  abstract boolean killedRunLeavesLock();

  /** Every file under a remote folder: path relative to it ('/'-separated) to sha256. */
  abstract SortedMap<String, String> remoteFiles(String dir) throws Exception;

  static Path spec() {
    return Cli.fixture("user_features_no_rowcount.yaml");
  }

  /** The first input: 600 events. */
  static Path inputA() throws Exception {
    return references().resolve("a.csv");
  }

  /** The changed input of the rerun: 900 other events. */
  static Path inputB() throws Exception {
    return references().resolve("b.csv");
  }

  /**
   * Two local stores: A ({@link #inputA}, {@link #FROM}..{@link #TO}, two files per partition) and
   * B ({@link #inputB}, {@link #RERUN_FROM}..{@link #TO}, one file per partition).
   */
  static synchronized Path references() throws Exception {
    if (refs == null) {
      Path dir = Path.of("target", "remote-store-references").toAbsolutePath();
      dev.featurebeam.io.sink.OfflineStore.deleteRecursively(dir);
      Files.createDirectories(dir);
      Path a = Cli.generate(dir.resolve("a.csv"), Map.of("seed", "3", "events", "600",
          "users", "40", "days", "12", "startDate", "2025-01-01"));
      Path b = Cli.generate(dir.resolve("b.csv"), Map.of("seed", "4", "events", "900",
          "users", "50", "days", "12", "startDate", "2025-01-01"));
      Cli.batch(Cli.DIRECT, spec(), a, dir.resolve("A"), "--from=" + FROM, "--to=" + TO,
          "--shardsPerPartition=2").assertExit(0);
      Cli.batch(Cli.DIRECT, spec(), b, dir.resolve("B"), "--from=" + RERUN_FROM, "--to=" + TO)
          .assertExit(0);
      refs = dir;
    }
    return refs;
  }

  /** The partitions' files of a local reference store, by path under the version folder. */
  static SortedMap<String, String> localPartitions(String store) throws Exception {
    return only(Cli.snapshot(Cli.versionDir(references().resolve(store), FS, 1)),
        k -> k.startsWith("as_of_date=") && k.contains("/"));
  }

  static SortedMap<String, String> only(SortedMap<String, String> files, Predicate<String> keep) {
    SortedMap<String, String> out = new TreeMap<>();
    files.forEach((k, v) -> {
      if (keep.test(k) && !v.equals("dir")) {
        out.put(k, v);
      }
    });
    return out;
  }

  static Predicate<String> date(String date) {
    return k -> k.startsWith("as_of_date=" + date + "/");
  }

  String version(String root) {
    return root + "/" + FS + "/v1";
  }

  Cli.Result batch(String root, Path input, String... extra) {
    return batch(Cli.DIRECT, root, input, extra);
  }

  Cli.Result batch(String runnerConfig, String root, Path input, String... extra) {
    List<String> args = new ArrayList<>(List.of(extra));
    args.addAll(storeOptions());
    return Cli.batch(runnerConfig, spec(), input, root, args.toArray(new String[0]));
  }

  SortedMap<String, String> partitions(String root) throws Exception {
    return only(remoteFiles(version(root)), k -> k.startsWith("as_of_date="));
  }

  @Test
  void aBackfillGivesTheLocalBytesAndARerunReplacesThemWhole() throws Exception {
    String root = root("backfill");
    // On Flink's local mode (the command line's default runner), whose tasks get the store's
    // options by deserializing the job's: the local reference ran on the DirectRunner.
    batch(Cli.FLINK_LOCAL, root, inputA(), "--from=" + FROM, "--to=" + TO,
        "--shardsPerPartition=2").assertExit(0);
    SortedMap<String, String> remote = remoteFiles(version(root));
    assertThat(only(remote, k -> k.startsWith("as_of_date=")), equalTo(localPartitions("A")));
    // The quarantine too (its lines name the source file, the same for both).
    String quarantine = "_runs/" + FROM + "_" + TO + "/quarantine.jsonl";
    assertThat(remote.get(quarantine), equalTo(
        Cli.snapshot(Cli.versionDir(references().resolve("A"), FS, 1)).get(quarantine)));
    assertThat(remote.containsKey("_runs/" + FROM + "_" + TO + "/report.json"), is(true));
    assertThat(remote.keySet().stream().filter(k -> k.startsWith("_staging") || k.equals("_LOCK"))
        .collect(Collectors.toList()), empty());

    // show reads the remote partition through its manifest, as the local one.
    List<String> show = new ArrayList<>(List.of("show",
        version(root) + "/as_of_date=" + CRASH_DATE));
    show.addAll(storeOptions());
    assertThat(Cli.run(show.toArray(new String[0])).assertExit(0).out(), equalTo(
        Cli.show(Cli.partitionDir(references().resolve("A"), FS, 1, CRASH_DATE))
            .assertExit(0).out()));

    // A rerun on changed input with one file per partition: B's bytes, and no file of A's two.
    batch(root, inputB(), "--from=" + RERUN_FROM, "--to=" + TO).assertExit(0);
    SortedMap<String, String> rerun = partitions(root);
    assertThat(only(rerun, k -> !k.startsWith("as_of_date=" + FROM)),
        equalTo(localPartitions("B")));
    assertThat(only(rerun, date(FROM)), equalTo(only(localPartitions("A"), date(FROM))));
    assertThat(only(rerun, date(CRASH_DATE)), not(equalTo(only(localPartitions("A"),
        date(CRASH_DATE)))));
  }

  /**
   * training-set --mode=snapshot over the remote store reads its partitions through their
   * manifests and gives the file it gives over the local store of the same run (reference A).
   */
  @Test
  void aTrainingSnapshotOfTheRemoteStoreIsTheLocalStoresFile() throws Exception {
    String root = root("snapshot");
    batch(root, inputA(), "--from=" + FROM, "--to=" + TO, "--shardsPerPartition=2")
        .assertExit(0);
    // Users of the input at instants before, between and after the published as-of times.
    List<String> rows = new ArrayList<>(List.of("user_id,timestamp,label"));
    for (String line : Files.readAllLines(inputA()).subList(1, 41)) {
      String user = line.split(",")[1];
      rows.add(user + ",2025-01-06T12:00:00Z,a");
      rows.add(user + ",2025-01-09T00:00:00Z,b");
      rows.add(user + ",2025-01-10T17:30:00.001Z,c");
      rows.add(user + ",2025-02-01T00:00:00Z,d");
    }
    Path spine = tmp.resolve("spine.csv");
    Files.write(spine, rows);
    Path local = tmp.resolve("local.parquet");
    Path remote = tmp.resolve("remote.parquet");
    for (Map.Entry<String, Path> run : Map.of(references().resolve("A").toString(), local,
        root, remote).entrySet()) {
      List<String> args = new ArrayList<>(List.of("training-set", "--spec=" + spec(),
          "--spine=" + spine, "--out=" + run.getValue(), "--mode=snapshot",
          "--store=" + run.getKey(), "--runnerConfig=" + Cli.runnerConfig(Cli.DIRECT),
          "--progress=false"));
      args.addAll(storeOptions());
      Cli.run(args.toArray(new String[0])).assertExit(0);
    }
    List<String> fromLocal = records(local);
    assertThat(fromLocal.size(), equalTo(rows.size() - 1));
    assertThat(records(remote), equalTo(fromLocal));
    // The partitions were read: rows before the first as-of time have no values (every feature
    // null), rows after the last one take its values.
    assertThat(nulls(fromLocal, "\"d\""), lessThan(nulls(fromLocal, "\"a\"")));
  }

  /** How many null values the records with {@code label} hold. */
  private static long nulls(List<String> records, String label) {
    return records.stream().filter(r -> r.contains("\"label\": " + label))
        .mapToLong(r -> r.split("null", -1).length - 1).sum();
  }

  /** A training file's records, each as its fields' text, in the file's order. */
  static List<String> records(Path parquet) {
    List<String> out = new ArrayList<>();
    for (org.apache.avro.generic.GenericRecord r : PartitionReader.readFile(parquet)) {
      out.add(r.toString());
    }
    return out;
  }

  @Test
  void aSourceOnTheRemoteStoreReadsAsTheSameLocalFile() throws Exception {
    String source = root("sources") + "/a.csv";
    byte[] events = Files.readAllBytes(inputA()); // first: the reference runs set Beam's options
    StoreLocation.configure(PipelineOptionsFactory.fromArgs(
        storeOptions().toArray(new String[0])).create());
    StoreLocation.write(source, events);
    List<String> args = new ArrayList<>(List.of("batch", "--spec=" + spec(),
        "--source=file:" + source, "--out=" + tmp.resolve("out"),
        "--runnerConfig=" + Cli.runnerConfig(Cli.DIRECT), "--progress=false",
        "--from=" + FROM, "--to=" + TO, "--shardsPerPartition=2"));
    args.addAll(storeOptions());
    Cli.run(args.toArray(new String[0])).assertExit(0);
    // The same Parquet files; the manifests differ only in the lineage, which names the source.
    Predicate<String> parquet = k -> k.endsWith(".parquet");
    assertThat(only(Cli.snapshot(Cli.versionDir(tmp.resolve("out"), FS, 1)), parquet),
        equalTo(only(localPartitions("A"), parquet)));
    String manifest = Files.readString(Cli.partitionDir(tmp.resolve("out"), FS, 1, CRASH_DATE)
        .resolve("_MANIFEST.json"));
    assertThat(manifest, containsString("\"source\": \"file:" + source + "\""));
  }

  @Test
  void aRunKilledWhilePublishingLeavesTheOtherPartitionsReadableAndTheNextRunCompletesIt()
      throws Exception {
    String root = root("crash");
    batch(root, inputA(), "--from=" + FROM, "--to=" + TO, "--shardsPerPartition=2")
        .assertExit(0);
    SortedMap<String, String> before = remoteFiles(version(root));

    // Killed (the child halts, as kill -9 would) when the crash date's old manifest is deleted
    // and the first new file is copied over an old one.
    List<String> args = new ArrayList<>(List.of(Cli.batchArgs(Cli.DIRECT, spec(), inputB(), root,
        "--from=" + RERUN_FROM, "--to=" + TO)));
    args.addAll(storeOptions());
    Cli.Result crashed = Child.start(tmp.resolve("child"),
            Map.of(StoreFaults.PROPERTY, StoreFaults.AFTER_FIRST_COPY + "@" + CRASH_DATE + ":halt"),
            args.toArray(new String[0]))
        .await(180);
    assertThat(crashed.describe(), crashed.exit(), is(137));
    assertThat(crashed.err(), containsString("fault injected: halt at "
        + StoreFaults.AFTER_FIRST_COPY));

    SortedMap<String, String> after = remoteFiles(version(root));
    // Outside the crashed run's range: untouched.
    assertThat(only(after, date(FROM)), equalTo(only(before, date(FROM))));
    // The crash date is unpublished (no manifest), its journal staged.
    assertThat(after.containsKey("as_of_date=" + CRASH_DATE + "/_MANIFEST.json"), is(false));
    assertThat(after.keySet().stream().anyMatch(k -> k.startsWith("_staging/")
        && k.endsWith("/as_of_date=" + CRASH_DATE + "/_MANIFEST.json")), is(true));
    // Every date with a manifest reads whole: its listed files with their sha256.
    for (String date : DATES) {
      if (after.containsKey("as_of_date=" + date + "/_MANIFEST.json")) {
        PartitionReader.fetch(version(root) + "/as_of_date=" + date, tmp.resolve("read-" + date));
      }
    }

    // The next run, of a range the crashed one never touched, rolls the crash date forward.
    Cli.Result next = batch(root, inputA(), "--asOfDate=2025-01-20").assertExit(0);
    SortedMap<String, String> recovered = remoteFiles(version(root));
    assertThat(next.describe(), recovered.keySet().stream()
        .filter(k -> k.startsWith("_staging") || k.equals("_LOCK")).collect(Collectors.toList()),
        empty());
    for (String date : DATES) {
      PartitionReader.fetch(version(root) + "/as_of_date=" + date, tmp.resolve("again-" + date));
      SortedMap<String, String> files = only(recovered, date(date));
      if (date.equals(FROM)) {
        assertThat(date, files, equalTo(only(localPartitions("A"), date(date))));
      } else if (date.equals(CRASH_DATE)) {
        assertThat(date, files, equalTo(only(localPartitions("B"), date(date))));
      } else {
        // Published by the crashed run before it died, rolled forward, or not yet begun.
        assertThat(date, files.equals(only(localPartitions("A"), date(date)))
            || files.equals(only(localPartitions("B"), date(date))), is(true));
      }
    }
    assertThat(next.err(), containsString("completed what an interrupted run had begun to publish"));
    if (killedRunLeavesLock()) {
      // The killed run's lock on the store: its process is gone, so the next run removed it.
      assertThat(next.err(), containsString("left by a run that no longer runs"));
    }
  }
}
