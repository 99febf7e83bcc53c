package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.PartitionReader;
import dev.featurebeam.io.sink.StoreLock;
import dev.featurebeam.io.source.SchemaContractException;
import dev.featurebeam.pipelines.generate.EventGenerator;
import dev.featurebeam.pipelines.generate.GeneratorConfig;
import dev.featurebeam.pipelines.generate.KafkaTarget;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * The command line: {@code featurebeam batch|show|generate ...}. Exit status 0 on success, 2 for a
 * usage, spec, source or schema-contract error, 3 when the quality gate kept a partition out, 1
 * when the pipeline itself failed. Errors are one line on standard error.
 */
public final class FeatureBeamCli {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int QUALITY_GATE = 3;

  /** Failed checks printed one per line; the rest are counted (the report has them all). */
  static final int FAILURES_SHOWN = 10;

  static final String USAGE_TEXT = String.join("\n",
      "usage:",
      "  featurebeam batch    --spec=SPEC --source=file:PATH|GLOB --out=OUT (--asOfDate=D | --from=D1 --to=D2)",
      "                       [--runnerConfig=runners-config/NAME.args] [--shardsPerPartition=N] [Beam runner options]",
      "  featurebeam show     PARTITION_DIR",
      "  featurebeam generate --out=FILE [--events=N --users=N --days=N --startDate=D --seed=N --skew=X",
      "                       --duplicateFraction=X --malformedFraction=X --shards=N --format=csv|jsonl|parquet]",
      "  featurebeam generate --out=kafka://HOST:PORT/TOPIC [--rate=N] [--partitions=N] [the same generator options]");

  private FeatureBeamCli() {}

  public static void main(String[] args) {
    // Beam and Flink log ~1,000 INFO lines per run; keep the terminal for our own output.
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    // Flink and Hadoop warn about their embedded environment on every run (no Hadoop config, no
    // native library, no delegation tokens, operator names over 80 characters): keep errors only.
    // Kafka's clients warn on every failed connection attempt; generate reports the outcome once.
    for (String noisy : new String[] {"org.apache.flink", "org.apache.hadoop", "org.apache.kafka"}) {
      String key = "org.slf4j.simpleLogger.log." + noisy;
      if (System.getProperty(key) == null) {
        System.setProperty(key, "error");
      }
    }
    int status = run(args, System.out, System.err);
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
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
      (args.length == 0 ? err : out).println(USAGE_TEXT);
      return args.length == 0 ? USAGE : OK;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    try {
      switch (args[0]) {
        case "batch":
          return batch(rest, out, err);
        case "show":
          return show(rest, out);
        case "generate":
          return generate(rest, out);
        default:
          err.println("featurebeam: unknown command '" + args[0] + "'\n" + USAGE_TEXT);
          return USAGE;
      }
    } catch (SchemaContractException | IllegalArgumentException | StoreLock.LockedException e) {
      // SpecException is an IllegalArgumentException too
      err.println("featurebeam: " + e.getMessage());
      return USAGE;
    } catch (RuntimeException e) {
      err.println("featurebeam: " + args[0] + " failed: " + rootMessage(e));
      return FAILED;
    }
  }

  static int batch(String[] args, PrintStream out, PrintStream err) {
    PipelineOptionsFactory.register(BatchOptions.class);
    BatchOptions options =
        PipelineOptionsFactory.fromArgs(RunnerArgs.merge(args)).withValidation().as(BatchOptions.class);
    RunReport report = BatchPipeline.of(options, notice -> err.println("featurebeam: " + notice))
        .run();
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

  static int show(String[] args, PrintStream out) {
    if (args.length != 1) {
      throw new IllegalArgumentException("show takes one partition folder: featurebeam show OUT/fs/v1/as_of_date=D");
    }
    Path dir = Path.of(args[0]);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("no partition folder " + dir);
    }
    PartitionReader.printCsv(dir, out);
    return OK;
  }

  static int generate(String[] args, PrintStream out) {
    GeneratorConfig.Builder builder = GeneratorConfig.builder();
    String target = null;
    String rate = null;
    String partitions = null;
    for (String a : args) {
      if (!a.startsWith("--") || a.indexOf('=') < 0) {
        throw new IllegalArgumentException("generate: '" + a + "' is not a --name=value option");
      }
      String name = a.substring(2, a.indexOf('='));
      String value = a.substring(a.indexOf('=') + 1);
      switch (name) {
        case "out":
          target = value;
          break;
        case "rate":
          rate = value;
          break;
        case "partitions":
          partitions = value;
          break;
        default:
          builder.set(name, value);
      }
    }
    if (target == null) {
      throw new IllegalArgumentException(
          "generate needs --out=FILE (.csv, .jsonl or .parquet) or --out=kafka://HOST:PORT/TOPIC");
    }
    if (KafkaTarget.isKafka(target)) {
      return generateToKafka(builder.build(), target, rate, partitions, out);
    }
    if (rate != null || partitions != null) {
      throw new IllegalArgumentException(
          "generate: --rate and --partitions apply to --out=kafka://HOST:PORT/TOPIC only");
    }
    Path file = Path.of(target);
    try {
      out.println(EventGenerator.write(builder.build(), file).describe() + ": " + file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot write " + file + ": " + e.getMessage());
    }
    return OK;
  }

  private static int generateToKafka(
      GeneratorConfig cfg, String out, String rate, String partitions, PrintStream stdout) {
    KafkaTarget target = KafkaTarget.parse(out);
    if (rate != null) {
      target = target.withRate(number("rate", rate, Double::parseDouble));
    }
    if (partitions != null) {
      target = target.withPartitions(number("partitions", partitions, Integer::parseInt));
    }
    try {
      stdout.println(EventGenerator.send(cfg, target).describe());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot write " + target + ": " + e.getMessage());
    }
    return OK;
  }

  private static <T> T number(String name, String value, Function<String, T> parse) {
    try {
      return parse.apply(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("generate: --" + name + "=" + value + " is not a number");
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
