package dev.featurebeam.pipelines;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.io.sink.StoreLocation;
import dev.featurebeam.io.sink.StoreLock;
import dev.featurebeam.io.source.SchemaContractException;
import dev.featurebeam.pipelines.generate.EventGenerator;
import dev.featurebeam.pipelines.generate.GenerateOptions;
import dev.featurebeam.pipelines.generate.GeneratorConfig;
import dev.featurebeam.pipelines.generate.KafkaTarget;
import dev.featurebeam.pipelines.online.FeatureRow;
import dev.featurebeam.pipelines.online.OnlineFeatures;
import dev.featurebeam.pipelines.serve.FeatureServer;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import org.joda.time.ReadableInstant;

/**
 * The command line: {@code featurebeam batch|stream|training-set|show|get|serve|generate|help ...}. Exit status 0 on success
 * (and for help and the version), 2 for a usage, spec, source, output or schema-contract problem,
 * 3 when the quality gate kept a partition out, 1 when the pipeline itself failed.
 *
 * <p>Every failure ends with one line {@code featurebeam: <what failed>: <cause>} on standard
 * error. A failure of the pipeline names a log file with its stack trace and what the runner
 * printed meanwhile ({@link FailureLog}); {@code --verbose} prints both on standard error instead.
 */
public final class FeatureBeamCli {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int QUALITY_GATE = 3;

  /** Failed checks printed one per line; the rest are counted (the report has them all). */
  static final int FAILURES_SHOWN = 10;

  static final String RUNNER_OPTIONS = "Any Beam runner option passes through (--runner,"
      + " --parallelism, ...), also from a file with --runnerConfig=FILE, where ${NAME} is the"
      + " environment variable NAME; the default runner is Flink's embedded local mode.";

  static final Help.Command BATCH = new Help.Command("batch",
      "compute features as of a date or a range of dates and publish them to the offline store",
      "featurebeam batch --spec=SPEC --source=file:PATH|GLOB|jdbc:URL|https://URL --out=OUT"
          + " (--asOfDate=D | --from=D1 --to=D2) [options]",
      List.of(SpecOptions.class, BatchOptions.class, ApiSourceOptions.class, OutputOptions.class,
          RunOptions.class),
      RUNNER_OPTIONS);
  static final Help.Command STREAM = new Help.Command("stream",
      "read events from Kafka and publish each as-of date's partition once the watermark passes it",
      "featurebeam stream --spec=SPEC --source=kafka://HOST:PORT/TOPIC --out=OUT --from=D [--to=D2]"
          + " [options]",
      List.of(SpecOptions.class, StreamOptions.class, OutputOptions.class, RunOptions.class),
      RUNNER_OPTIONS + " On Flink's local mode a stream checkpoints every 10 s"
          + " (--checkpointingInterval=MS; -1 for none) into OUT/<feature_set>/v<version>/_streams/,"
          + " and the same command after a kill resumes from the latest checkpoint.");
  static final Help.Command TRAINING_SET = new Help.Command("training-set",
      "the spec's features at each spine row's instant (point-in-time join) into one Parquet file",
      "featurebeam training-set --spec=SPEC --source=file:PATH|GLOB --spine=FILE --out=FILE.parquet"
          + " [--spineTimestamp=COLUMN] [--mode=exact|snapshot --store=OUT [--maxStaleness=D]]",
      List.of(SpecOptions.class, TrainingSetOptions.class, RunOptions.class), RUNNER_OPTIONS);
  static final Help.Command SHOW = new Help.Command("show",
      "print a partition of the offline store as CSV with a header",
      "featurebeam show PARTITION_DIR    e.g. featurebeam show out/user_features/v1/as_of_date=2025-03-01",
      List.of(), "A partition on HDFS or S3 (hdfs://…, s3://…) is read through its manifest, each"
          + " file checked against its sha256; Beam's options for that store may follow it"
          + " (--hdfsConfiguration, --awsRegion, --endpoint, --awsCredentialsProvider,"
          + " --s3ClientFactoryClass).");
  static final Help.Command GENERATE = new Help.Command("generate",
      "write synthetic events (with duplicates and malformed records) to a file or a Kafka topic",
      "featurebeam generate --out=FILE|kafka://HOST:PORT/TOPIC [options]",
      List.of(GenerateOptions.class), null);
  static final Help.Command GET = new Help.Command("get",
      "print one entity's features at an instant from the online store, and how fresh they are",
      "featurebeam get --spec=SPEC --onlineStore=redis://HOST:PORT[/DB] --entity=ID [--at=INSTANT]",
      List.of(SpecOptions.class, OnlineStoreOptions.class, GetOptions.class), null);
  static final Help.Command SERVE = new Help.Command("serve",
      "answer features at an instant over HTTP (JSON) from the online store",
      "featurebeam serve --spec=SPEC --onlineStore=redis://HOST:PORT[/DB] --port=N [options]",
      List.of(SpecOptions.class, OnlineStoreOptions.class, ServeOptions.class),
      "Endpoints: GET /v1/features/FS/vN/ENTITY[?at=INSTANT], POST /v1/features/FS/vN with"
          + " {\"entities\": [...], \"at\": INSTANT}, GET /health, GET /metrics.");
  static final Help.Command HELP = new Help.Command("help",
      "list the commands, or a command's options: featurebeam help COMMAND",
      "featurebeam help [COMMAND]", List.of(), null);
  static final List<Help.Command> COMMANDS =
      List.of(BATCH, STREAM, TRAINING_SET, SHOW, GET, SERVE, GENERATE, HELP);

  private FeatureBeamCli() {}

  public static void main(String[] args) {
    // Beam and Flink log ~1,000 INFO lines per run; keep warnings and errors for the log file.
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    // Loggers that warn on every run about what an embedded run does not have or need; nothing
    // FeatureBeam does causes them, so they keep errors only:
    for (String noisy : new String[] {
        // Beam's step names make operator names over Flink's 80-character limit for metrics.
        "org.apache.flink.metrics.MetricGroup",
        // No Hadoop configuration, no delegation tokens, no log.file for the web dashboard.
        "org.apache.flink.runtime.util.HadoopUtils",
        "org.apache.flink.runtime.security.token.DefaultDelegationTokenManager",
        "org.apache.flink.runtime.webmonitor.WebMonitorUtils",
        // No native Hadoop library: Parquet's codecs use the Java ones.
        "org.apache.hadoop.util.NativeCodeLoader",
        // Every failed connection attempt; generate reports the outcome once.
        "org.apache.kafka.clients.NetworkClient"}) {
      String key = "org.slf4j.simpleLogger.log." + noisy;
      if (System.getProperty(key) == null) {
        System.setProperty(key, "error");
      }
    }
    // Before anything logs: what the libraries print waits for a failure's log file.
    HeldOutput held = HeldOutput.install();
    int status = run(args, System.out, held.terminal(), held);
    // Flink's embedded RPC system runs Pekko in its own class loader, which Flink closes when the
    // mini-cluster stops; Pekko's JVM shutdown hook can then fail to load a class at exit and print
    // a NoClassDefFoundError after a run that succeeded. Only that failure is silenced.
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
      if (thread.getName().startsWith("flink-shutdown-hook") && e instanceof NoClassDefFoundError) {
        return;
      }
      if (previous != null) {
        previous.uncaughtException(thread, e);
      } else { // what the JVM prints without a handler
        System.err.print("Exception in thread \"" + thread.getName() + "\" ");
        e.printStackTrace(System.err);
      }
    });
    System.exit(status);
  }

  /** Runs one command; returns its exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, HeldOutput.NONE);
  }

  static int run(String[] args, PrintStream out, PrintStream err, HeldOutput held) {
    if (args.length == 0) {
      err.print(Help.commands(COMMANDS));
      return USAGE;
    }
    String first = args[0];
    if (isHelp(first) || first.equals(HELP.name())) {
      if (first.equals(HELP.name()) && args.length > 1) {
        Help.Command c = command(args[1]);
        if (c == null) {
          return unknownCommand(args[1], err);
        }
        out.print(Help.command(c));
      } else {
        out.print(Help.commands(COMMANDS));
      }
      return OK;
    }
    if (first.equals("--version")) {
      out.println("featurebeam " + Version.get());
      return OK;
    }
    Help.Command command = command(first);
    if (command == null) {
      return unknownCommand(first, err);
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    if (Arrays.stream(rest).anyMatch(FeatureBeamCli::isHelp)) {
      out.print(Help.command(command));
      return OK;
    }
    Failure failure = new Failure(command.name(), args, err, held, verbose(rest));
    held.tee(failure.verbose);
    try {
      switch (command.name()) {
        case "batch":
          return batch(rest, out, err, failure);
        case "stream":
          return stream(rest, out, err, failure);
        case "training-set":
          return trainingSet(rest, out, err, failure);
        case "show":
          return show(rest, out);
        case "get":
          return get(rest, out);
        case "serve":
          return serve(rest, out, err);
        default:
          return generate(rest, out);
      }
    } catch (SchemaContractException | IllegalArgumentException | StoreLock.LockedException e) {
      // SpecException is an IllegalArgumentException too; a pipeline's failure never arrives here
      return failure.usage(e);
    } catch (RuntimeException | Error e) {
      return failure.failed(e);
    } finally {
      held.tee(false);
    }
  }

  static int batch(String[] args, PrintStream out, PrintStream err, Failure failure) {
    BatchOptions options =
        CommandOptions.parse(BATCH.name(), RunnerArgs.merge(args), BatchOptions.class);
    failure.logInto(options.getOut());
    DataflowJob.refuseRun(BATCH.name(), options, true);
    BatchPipeline batch =
        BatchPipeline.of(options, notice -> err.println("featurebeam: " + notice), err);
    if (DataflowJob.specificationOnly(options)) {
      return wroteSpecification(batch.writeJobSpecification(), out);
    }
    return summarize(batch.run(), out, err);
  }

  /** Prints the summary and the failed checks; the exit status of a run that got this far. */
  private static int summarize(RunReport report, PrintStream out, PrintStream err) {
    report.printSummary(out);
    if (!report.allPublished()) {
      List<String> failures = report.failures();
      failures.stream().limit(FAILURES_SHOWN)
          .forEach(f -> err.println("featurebeam: quality gate: " + f));
      if (failures.size() > FAILURES_SHOWN) {
        err.printf(Locale.ROOT, "featurebeam: quality gate: and %,d more failed checks (all in %s)%n",
            failures.size() - FAILURES_SHOWN, report.path());
      }
      return QUALITY_GATE;
    }
    return OK;
  }

  static int stream(String[] args, PrintStream out, PrintStream err, Failure failure) {
    StreamOptions options =
        CommandOptions.parse(STREAM.name(), RunnerArgs.forStream(RunnerArgs.merge(args)),
            StreamOptions.class);
    failure.logInto(options.getOut());
    DataflowJob.refuseRun(STREAM.name(), options, true);
    StreamPipeline stream =
        StreamPipeline.of(options, notice -> err.println("featurebeam: " + notice), err);
    if (DataflowJob.specificationOnly(options)) {
      return wroteSpecification(stream.writeJobSpecification(), out);
    }
    return summarize(stream.run(), out, err);
  }

  /** A Dataflow job's specification was written; nothing ran. */
  private static int wroteSpecification(String location, PrintStream out) {
    out.println("wrote the Dataflow job's specification to " + location
        + "; nothing ran and the store is unchanged");
    return OK;
  }

  static int trainingSet(String[] args, PrintStream out, PrintStream err, Failure failure) {
    TrainingSetOptions options = CommandOptions.parse(TRAINING_SET.name(), RunnerArgs.merge(args),
        TrainingSetOptions.class);
    DataflowJob.refuseRun(TRAINING_SET.name(), options, false);
    if (options.getOut() != null && Path.of(options.getOut()).getParent() != null) {
      failure.logInto(Path.of(options.getOut()).toAbsolutePath().getParent().toString());
    }
    try {
      TrainingSetPipeline.of(options).run().printSummary(out);
    } catch (TrainingSetPipeline.InvalidValuesException e) {
      err.println("featurebeam: training-set: " + e.getMessage());
      return QUALITY_GATE;
    }
    return OK;
  }

  static int show(String[] args, PrintStream out) {
    if (args.length >= 1 && StoreLocation.isRemote(args[0])) {
      // A remote partition: Beam's options for its store (--endpoint, --awsRegion,
      // --hdfsConfiguration, ...) may follow.
      String[] options = java.util.Arrays.copyOfRange(args, 1, args.length);
      StoreLocation.configure(CommandOptions.parse(SHOW.name(), options,
          org.apache.beam.sdk.options.PipelineOptions.class));
      PartitionReader.printCsv(args[0], out);
      return OK;
    }
    if (args.length != 1) {
      throw new IllegalArgumentException(
          "show takes one partition folder: featurebeam show OUT/fs/v1/as_of_date=D");
    }
    Path dir = StoreLocation.localPath(args[0]);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("no partition folder " + dir);
    }
    PartitionReader.printCsv(dir, out);
    return OK;
  }

  static int get(String[] args, PrintStream out) {
    // get runs no pipeline: a runner's option is as unknown to it as a misspelt one.
    CommandOptions.onlyOwn(GET.name(), args, GetOptions.class);
    GetOptions options = CommandOptions.parse(GET.name(), args, GetOptions.class);
    if (options.getEntity().isBlank()) {
      throw new IllegalArgumentException("--entity needs an entity id");
    }
    long at = options.getAt() == null ? System.currentTimeMillis()
        : OnlineFeatures.parseInstant(options.getAt());
    FeatureSpec spec = SpecParser.parse(Path.of(options.getSpec()));
    try (OnlineFeatures features = OnlineFeatures.open(spec, options.getOnlineStore())) {
      FeatureRow row;
      try {
        row = features.get(options.getEntity(), at);
      } catch (RedisStateStore.UnavailableException e) {
        throw new IllegalArgumentException("--onlineStore: " + e.getMessage(), e);
      }
      printRow(spec, features.featureNames(), row, out);
    }
    return OK;
  }

  /** The values, one {@code name = value} a line, and what the state was. */
  static void printRow(FeatureSpec spec, List<String> names, FeatureRow row, PrintStream out) {
    out.printf(Locale.ROOT, "%s v%d  %s=%s  at %s%n", spec.featureSet(), spec.version(),
        spec.entity(), row.entity(), Instant.ofEpochMilli(row.atMillis()));
    int width = names.stream().mapToInt(String::length).max().orElse(0);
    for (int i = 0; i < names.size(); i++) {
      Object v = row.values().get(i);
      String text = v == null ? "null"
          : v instanceof ReadableInstant
              ? Instant.ofEpochMilli(((ReadableInstant) v).getMillis()).toString() : v.toString();
      out.printf(Locale.ROOT, "  %-" + width + "s = %s%n", names.get(i), text);
    }
    if (row.held()) {
      out.printf(Locale.ROOT, "state: %,d events, latest event %s, written at watermark %s;"
          + " freshness %s%n", row.eventCount(), Instant.ofEpochMilli(row.latestEventMillis()),
          Instant.ofEpochMilli(row.watermarkMillis()),
          java.time.Duration.ofMillis(row.freshnessMillis()).toString().substring(2).toLowerCase(Locale.ROOT));
    } else {
      out.println("state: none stored for this entity (never seen, or no window reads its events"
          + " any more): counts 0, exists false, the rest null");
    }
  }

  static int serve(String[] args, PrintStream out, PrintStream err) {
    CommandOptions.onlyOwn(SERVE.name(), args, ServeOptions.class);
    ServeOptions options = CommandOptions.parse(SERVE.name(), args, ServeOptions.class);
    FeatureSpec spec = SpecParser.parse(Path.of(options.getSpec()));
    OnlineFeatures features =
        OnlineFeatures.open(spec, options.getOnlineStore(), options.getThreads());
    try {
      features.ping();
    } catch (RedisStateStore.UnavailableException e) {
      err.println("featurebeam: serve: " + e.getMessage()
          + "; serving anyway: /health answers 503 until it does");
    }
    FeatureServer server;
    try {
      server = FeatureServer.start(features, options.getHost(), options.getPort(),
          options.getThreads(), options.getQueue());
    } catch (IOException e) {
      features.close();
      throw new IllegalArgumentException("cannot listen on " + options.getHost() + ":"
          + options.getPort() + ": " + e.getMessage(), e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "featurebeam-serve-stop"));
    out.println("serving " + server.describe() + " on " + server.uri());
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
    }
    return OK;
  }

  static int generate(String[] args, PrintStream out) {
    // generate runs no pipeline: a runner's option is as unknown to it as a misspelt one.
    CommandOptions.onlyOwn(GENERATE.name(), args, GenerateOptions.class);
    GenerateOptions options = CommandOptions.parse(GENERATE.name(), args, GenerateOptions.class);
    GeneratorConfig cfg = GenerateOptions.toConfig(options);
    String target = options.getOut();
    if (KafkaTarget.isKafka(target)) {
      KafkaTarget kafka = KafkaTarget.parse(target).withPartitions(options.getPartitions());
      if (options.getRate() != null) {
        kafka = kafka.withRate(options.getRate());
      }
      try {
        out.println(EventGenerator.send(cfg, kafka, options.getLiveTimestamps()).describe());
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot write " + kafka + ": " + e.getMessage());
      }
      return OK;
    }
    if (CommandOptions.given(args, "rate") || CommandOptions.given(args, "partitions")
        || CommandOptions.given(args, "liveTimestamps")) {
      throw new IllegalArgumentException(
          "--rate, --partitions and --liveTimestamps apply to --out=kafka://HOST:PORT/TOPIC only");
    }
    Path file = Path.of(target);
    try {
      out.println(EventGenerator.write(cfg, file).describe() + ": " + file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot write " + file + ": " + e.getMessage());
    }
    return OK;
  }

  private static Help.Command command(String name) {
    return COMMANDS.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
  }

  private static int unknownCommand(String name, PrintStream err) {
    err.println("featurebeam: unknown command '" + name + "' ('featurebeam help' lists the commands)");
    return USAGE;
  }

  private static boolean isHelp(String arg) {
    return arg.equals("--help") || arg.equals("-h") || arg.startsWith("--help=");
  }

  /** --verbose as Beam reads a boolean: bare or =true; known before parsing, for its errors. */
  private static boolean verbose(String[] args) {
    for (String a : args) {
      if (a.equals("--verbose") || a.equalsIgnoreCase("--verbose=true")) {
        return true;
      }
    }
    return false;
  }

  /** How one command's failure is told: one line, and its details where they belong. */
  static final class Failure {
    private final String command;
    private final String[] args;
    private final PrintStream err;
    private final HeldOutput held;
    final boolean verbose;
    private final List<Path> logDirs = new ArrayList<>();

    Failure(String command, String[] args, PrintStream err, HeldOutput held, boolean verbose) {
      this.command = command;
      this.args = args;
      this.err = err;
      this.held = held;
      this.verbose = verbose;
    }

    /** A log file goes into the run's output folder when it exists (and is on a local disk). */
    void logInto(String dir) {
      if (dir != null && !dir.isEmpty() && !StoreLocation.isRemote(dir)) {
        logDirs.add(Path.of(dir).toAbsolutePath());
      }
    }

    /** What the command was given cannot work: the message says why, in one line. */
    int usage(RuntimeException e) {
      if (verbose) {
        err.print(FailureLog.stackTrace(e));
      }
      err.println("featurebeam: " + command + ": " + oneLine(e.getMessage()));
      return USAGE;
    }

    /** The command failed as it ran: the root cause in one line, the rest in the log. */
    int failed(Throwable e) {
      String line = "featurebeam: " + command + " failed: " + rootMessage(e);
      if (verbose) {
        err.print(FailureLog.stackTrace(e));
        err.println(line);
        return FAILED;
      }
      try {
        Path log = FailureLog.write(logDirs, args, e, held.text());
        err.println(line + " (details in " + log + ")");
      } catch (IOException io) {
        err.print(FailureLog.stackTrace(e));
        err.println(line + " (no log file: " + io.getMessage() + ")");
      }
      return FAILED;
    }
  }

  static String oneLine(String message) {
    return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + oneLine(m));
  }
}
