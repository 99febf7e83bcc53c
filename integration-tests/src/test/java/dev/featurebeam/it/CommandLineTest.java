package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import dev.featurebeam.io.sink.StoreFaults;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line as a person meets it: help, the version, and one line on standard error for
 * each way a command can fail, with its exit status.
 */
class CommandLineTest {
  private static final List<String> COMMANDS = List.of("batch", "stream", "training-set", "show", "get", "serve", "generate", "help");
  private static final Pattern DETAILS = Pattern.compile("\\(details in (.+\\.log)\\)$");

  @Test
  void helpListsEveryCommandOnOneLine() {
    for (String[] args : new String[][] {{"help"}, {"--help"}, {"-h"}}) {
      Cli.Result r = Cli.run(args).assertExit(0);
      assertThat(r.describe(), r.errLines(), empty());
      for (String c : COMMANDS) {
        List<String> lines = r.outLines().stream().filter(l -> l.startsWith("  " + c + " "))
            .collect(Collectors.toList());
        assertThat(r.describe(), lines, hasSize(1));
      }
    }
    // Without a command, the same list, as a usage error.
    Cli.Result none = Cli.run().assertExit(2);
    assertThat(none.err(), containsString("  generate "));
  }

  @Test
  void batchHelpListsItsOwnOptionsWithDefaultsAndThatRunnerOptionsPassThrough() {
    for (String[] args : new String[][] {{"batch", "--help"}, {"batch", "-h"}, {"help", "batch"},
        {"batch", "--spec=x.yaml", "--help"}}) {
      Cli.Result r = Cli.run(args).assertExit(0);
      assertThat(r.describe(), r.errLines(), empty());
      String out = r.out();
      for (String option : List.of("--spec=SPEC  (required)", "--source=SOURCE  (required)",
          "--out=OUT  (required)", "--asOfDate=", "--from=", "--to=", "--runnerConfig=",
          "--shardsPerPartition=N  (default 1)", "--filePartMegabytes=N  (default 32)",
          "--progress=true|false  (default true)", "--noWait=true|false  (default false)",
          "--verbose=true|false  (default false)", "--recordsField=RECORDS_FIELD  (default data)",
          "--cursorField=", "--cursorParam=CURSOR_PARAM  (default cursor)", "--nextField=",
          "--pageParam=", "--firstPage=N  (default 1)", "--sinceParam=", "--untilParam=",
          "--timeParamFormat=TIME_PARAM_FORMAT  (default iso)", "--httpHeaderEnv=",
          "--httpTimeout=HTTP_TIMEOUT  (default 30s)", "--httpMaxAttempts=N  (default 5)",
          "--httpBackoff=HTTP_BACKOFF  (default 1s)", "--refetch=true|false  (default false)")) {
        assertThat(out, containsString("  " + option));
      }
      assertThat(out, containsString("Parquet files per as-of partition"));
      List<String> passThrough = r.outLines().stream()
          .filter(l -> l.contains("Beam runner option")).collect(Collectors.toList());
      assertThat(passThrough, hasSize(1));
      assertThat(passThrough.get(0), allOf(containsString("--runner"),
          containsString("--parallelism"), containsString("--runnerConfig=FILE"),
          containsString("Flink")));
      // Not Beam's generic list of option classes, and not its claim of a DirectRunner default.
      assertThat(out, not(containsString("org.apache.beam")));
      assertThat(out, not(containsString("DirectRunner")));
    }
  }

  @Test
  void streamHelpListsItsOwnOptionsWithDefaults() {
    Cli.Result r = Cli.run("stream", "--help").assertExit(0);
    for (String option : List.of("--spec=SPEC  (required)", "--source=SOURCE  (required)",
        "--out=OUT  (required)", "--from=FROM  (required)", "--to=",
        "--maxOutOfOrderness=MAX_OUT_OF_ORDERNESS  (default 5s)",
        "--idleTimeout=IDLE_TIMEOUT  (default 30s)",
        "--allowedLateness=ALLOWED_LATENESS  (default 0s)")) {
      assertThat(r.describe(), r.out(), containsString("  " + option));
    }
    assertThat(r.out(), containsString("kafka://HOST:PORT/TOPIC"));
  }

  @Test
  void generateAndShowHaveHelpToo() {
    Cli.Result generate = Cli.run("generate", "--help").assertExit(0);
    for (String option : List.of("--out=OUT  (required)", "--events=N  (default 100000)",
        "--users=N  (default 2000)", "--days=N  (default 60)", "--startDate=START_DATE  (default 2025-01-01)",
        "--seed=N  (default 42)", "--skew=X  (default 1.0)", "--duplicateFraction=X  (default 0.005)",
        "--malformedFraction=X  (default 0.002)", "--shards=N  (default 1)", "--format=FORMAT",
        "--rate=X", "--partitions=N  (default 2)")) {
      assertThat(generate.out(), containsString("  " + option));
    }
    assertThat(generate.out(), containsString("kafka://HOST:PORT/TOPIC"));
    Cli.Result show = Cli.run("show", "-h").assertExit(0);
    assertThat(show.out(), containsString("usage: featurebeam show PARTITION_DIR"));
  }

  @Test
  void getAndServeListTheirOptions() {
    Cli.Result get = Cli.run("get", "--help").assertExit(0);
    for (String option : List.of("--spec=SPEC  (required)", "--onlineStore=ONLINE_STORE  (required)",
        "--entity=ENTITY  (required)", "--at=AT")) {
      assertThat(get.describe(), get.out(), containsString("  " + option));
    }
    Cli.Result serve = Cli.run("serve", "--help").assertExit(0);
    for (String option : List.of("--port=N  (required)", "--host=HOST  (default 127.0.0.1)",
        "--threads=N  (default 16)", "--queue=N  (default 256)")) {
      assertThat(serve.describe(), serve.out(), containsString("  " + option));
    }
    assertThat(serve.out(), containsString("POST /v1/features/FS/vN"));
  }

  @Test
  void versionIsPrintedWithExitZero() {
    Cli.Result r = Cli.run("--version").assertExit(0);
    assertThat(r.outLines(), hasSize(1));
    // Outside the jar (these tests run from classes) the manifest has no version.
    assertThat(r.outLines().get(0), matchesPattern("featurebeam (dev|\\d+\\.\\d+\\.\\d+.*)"));
    assertThat(r.errLines(), empty());
  }

  @Test
  void theJarsManifestCarriesTheVersion() throws IOException {
    Path jar = repoFile("pipelines/target/featurebeam.jar");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(jar), "no jar built");
    try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
      String v = j.getManifest().getMainAttributes().getValue("Implementation-Version");
      assertThat(v, matchesPattern("\\d+\\.\\d+\\.\\d+.*"));
    }
  }

  @Test
  void anUnknownOptionIsOneLineWithBeamsSuggestion(@TempDir Path tmp) {
    Cli.Result r = Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
        Cli.fixture("ex1_transactions.csv"), tmp.resolve("out"), "--asOfDate=2025-01-10",
        "--shardsPerPartitio=2").assertExit(2);
    assertThat(r.describe(), r.errLines(), equalTo(List.of(
        "featurebeam: batch: unknown option --shardsPerPartitio; did you mean --shardsPerPartition?")));
    Cli.Result none = Cli.run("batch", "--frobnicate=1").assertExit(2);
    assertThat(none.describe(), none.errLines(), hasSize(1));
    assertThat(none.errLines().get(0), containsString("unknown option --frobnicate"));
    Cli.Result generate = Cli.run("generate", "--out=" + tmp.resolve("e.csv"), "--event=5")
        .assertExit(2);
    assertThat(generate.describe(), generate.errLines(), equalTo(List.of(
        "featurebeam: generate: unknown option --event; did you mean --events?")));
    // generate runs no pipeline: a runner's option is unknown to it.
    Cli.Result runner = Cli.run("generate", "--out=" + tmp.resolve("e.csv"), "--runner=DirectRunner")
        .assertExit(2);
    assertThat(runner.describe(), runner.errLines(), hasSize(1));
  }

  @Test
  void aMissingRequiredOptionAndABadValueAreOneLineEach(@TempDir Path tmp) {
    Cli.Result spec = Cli.run("batch", "--source=file:x.csv", "--out=" + tmp, "--asOfDate=2025-01-10")
        .assertExit(2);
    assertThat(spec.describe(), spec.errLines(), equalTo(List.of(
        "featurebeam: batch: --spec is required ('featurebeam batch --help' describes it)")));
    Cli.Result generate = Cli.run("generate", "--events=5").assertExit(2);
    assertThat(generate.describe(), generate.errLines(), hasSize(1));
    assertThat(generate.errLines().get(0), containsString("--out is required"));
    Cli.Result value = Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
        Cli.fixture("ex1_transactions.csv"), tmp.resolve("out"), "--asOfDate=2025-01-10",
        "--shardsPerPartition=two").assertExit(2);
    assertThat(value.describe(), value.errLines(), equalTo(List.of(
        "featurebeam: batch: --shardsPerPartition=two is not a whole number")));
    Cli.Result rate = Cli.run("generate", "--out=kafka://127.0.0.1:9/t", "--rate=fast").assertExit(2);
    assertThat(rate.describe(), rate.errLines(), equalTo(List.of(
        "featurebeam: generate: --rate=fast is not a number")));
  }

  @Test
  void aBadSpecIsOneLine(@TempDir Path tmp) throws IOException {
    Path spec = Files.writeString(tmp.resolve("bad.yaml"),
        "feature_set: x\nversion: 1\nentity: user_id\nfeaturs: []\n", StandardCharsets.UTF_8);
    Cli.Result r = Cli.batch(Cli.DIRECT, spec, Cli.fixture("ex1_transactions.csv"),
        tmp.resolve("out"), "--asOfDate=2025-01-10").assertExit(2);
    assertThat(r.describe(), r.errLines(), hasSize(1));
    assertThat(r.errLines().get(0), allOf(startsWith("featurebeam: batch: "), containsString("bad.yaml")));
    Cli.Result missing = Cli.batch(Cli.DIRECT, tmp.resolve("nope.yaml"),
        Cli.fixture("ex1_transactions.csv"), tmp.resolve("out"), "--asOfDate=2025-01-10")
        .assertExit(2);
    assertThat(missing.describe(), missing.errLines(), hasSize(1));
    assertThat(missing.errLines().get(0), containsString("nope.yaml"));
  }

  @Test
  void aMissingOrUnreadableSourceIsOneLine(@TempDir Path tmp) throws IOException {
    Cli.Result missing = Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
        tmp.resolve("nope/*.csv"), tmp.resolve("out"), "--asOfDate=2025-01-10").assertExit(2);
    assertThat(missing.describe(), missing.errLines(), equalTo(List.of(
        "featurebeam: batch: no file matches " + tmp.resolve("nope/*.csv"))));
    // Root reads any file whatever its mode; reading /proc/self/mem at offset 0 fails for anyone.
    Path unreadable = tmp.resolve("events.csv");
    Files.createSymbolicLink(unreadable, Path.of("/proc/self/mem"));
    Cli.Result r = Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"), unreadable,
        tmp.resolve("out"), "--asOfDate=2025-01-10").assertExit(2);
    assertThat(r.describe(), r.errLines(), hasSize(1));
    assertThat(r.errLines().get(0), allOf(startsWith("featurebeam: batch: cannot read "),
        containsString("events.csv")));
  }

  @Test
  void anOutThatIsAFileOrUnderAFileIsOneLine(@TempDir Path tmp) throws IOException {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    for (Path out : List.of(file, file.resolve("below"))) {
      Cli.Result r = Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
          Cli.fixture("ex1_transactions.csv"), out, "--asOfDate=2025-01-10").assertExit(2);
      assertThat(r.describe(), r.errLines(), hasSize(1));
      assertThat(r.errLines().get(0), allOf(startsWith("featurebeam: batch: --out=" + out),
          containsString("cannot be written")));
    }
  }

  @Test
  void aPipelineFailureIsOneLineNamingALogWithTheStackTrace(@TempDir Path tmp) throws IOException {
    Path out = tmp.resolve("out");
    Cli.Result r = withFault(() -> Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
        Cli.fixture("ex1_transactions.csv"), out, "--asOfDate=2025-01-10")).assertExit(1);
    assertThat(r.describe(), r.errLines(), hasSize(1));
    String line = r.errLines().get(0);
    assertThat(line, startsWith("featurebeam: batch failed: IOException: fault injected at "
        + StoreFaults.AFTER_MANIFEST));
    Matcher m = DETAILS.matcher(line);
    assertThat(line, m.find(), is(true));
    Path log = Path.of(m.group(1));
    assertThat("in the run's output folder", log.getParent(), equalTo(out.toAbsolutePath()));
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(text, allOf(containsString("command: featurebeam batch --spec="),
        containsString("java.io.IOException: fault injected"),
        containsString("\tat dev.featurebeam.io.sink.PublishPartitions")));
  }

  @Test
  void verbosePrintsTheStackTraceAndStillEndsWithTheLine(@TempDir Path tmp) {
    Path out = tmp.resolve("out");
    Cli.Result r = withFault(() -> Cli.batch(Cli.DIRECT, Cli.fixture("ex1_spec.yaml"),
        Cli.fixture("ex1_transactions.csv"), out, "--asOfDate=2025-01-10", "--verbose"))
        .assertExit(1);
    List<String> lines = r.errLines();
    assertThat(r.describe(), lines.size(), greaterThan(10));
    assertThat(r.err(), containsString("\tat dev.featurebeam.io.sink.PublishPartitions"));
    String last = lines.get(lines.size() - 1);
    assertThat(last, startsWith("featurebeam: batch failed: IOException: fault injected"));
    assertThat(last, not(containsString("details in")));
  }

  private static Cli.Result withFault(java.util.function.Supplier<Cli.Result> run) {
    System.setProperty(StoreFaults.PROPERTY, StoreFaults.AFTER_MANIFEST + ":throw");
    try {
      return run.get();
    } finally {
      System.clearProperty(StoreFaults.PROPERTY);
    }
  }

  /** A file of the repository, found from the working directory upwards. */
  static Path repoFile(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve("runners-config"))) {
        return dir.resolve(relative);
      }
    }
    throw new IllegalStateException("no repository above " + Path.of("").toAbsolutePath());
  }
}
