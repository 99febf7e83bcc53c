package dev.featurebeam.pipelines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * Merges a {@code --runnerConfig} file under the command line's own options: Beam's options parser
 * refuses an option given twice, so the file's lines are added only for names the command line
 * does not set. A line the merge keeps has each {@code ${NAME}} in it replaced by the environment
 * variable NAME; one that is unset or empty stops the command, naming it and the line. Without any
 * runner, the embedded Flink runner (local mode) is the default.
 */
public final class RunnerArgs {
  public static final String DEFAULT_RUNNER = "--runner=FlinkRunner";

  private RunnerArgs() {}

  /** {@code ${NAME}}: an environment variable's name as a shell takes it. */
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  public static String[] merge(String[] args) {
    return merge(args, System::getenv);
  }

  /** {@link #merge(String[])} with {@code env} as the environment. */
  static String[] merge(String[] args, Function<String, String> env) {
    Map<String, String> byName = new LinkedHashMap<>();
    String configFile = null;
    for (String a : args) {
      byName.put(name(a), a);
      if (name(a).equals("runnerConfig")) {
        configFile = a.substring(a.indexOf('=') + 1);
      }
    }
    List<String> out = new ArrayList<>(List.of(args));
    if (configFile != null) {
      for (String line : readConfig(Path.of(configFile))) {
        if (!byName.containsKey(name(line))) {
          // Only a line the command line does not override needs its variables.
          String expanded = expand(line, env, configFile);
          byName.put(name(line), expanded);
          out.add(expanded);
        }
      }
    }
    String runner = byName.containsKey("runner") ? value(byName.get("runner")) : null;
    if (runner == null) {
      out.add(DEFAULT_RUNNER);
    }
    if (isFlink(runner) && !byName.containsKey("fasterCopy")) {
      // Chained operators hand objects over without a defensive copy; no step mutates its input.
      // (Without it, Beam's Flink runner warns on every run that it should be set.)
      out.add("--fasterCopy=true");
    }
    return out.toArray(new String[0]);
  }

  /** A stream's checkpoint interval on Flink when none is given: a killed stream resumes. */
  static final String STREAM_CHECKPOINTING = "--checkpointingInterval=10000";

  /**
   * {@link #merge}d arguments for a stream: on the Flink runner, a checkpoint every 10 s unless
   * {@code --checkpointingInterval} is given ({@code -1} turns checkpoints off).
   */
  public static String[] forStream(String[] merged) {
    String runner = null;
    boolean interval = false;
    for (String a : merged) {
      if (name(a).equals("runner")) {
        runner = value(a);
      }
      interval |= name(a).equals("checkpointingInterval");
    }
    if (!isFlink(runner) || interval) {
      return merged;
    }
    String[] out = Arrays.copyOf(merged, merged.length + 1);
    out[merged.length] = STREAM_CHECKPOINTING;
    return out;
  }

  /** Whether {@code runner} (null: none given, so the default) is Flink's. */
  private static boolean isFlink(@Nullable String runner) {
    return runner == null || runner.equalsIgnoreCase("FlinkRunner")
        || runner.equals("org.apache.beam.runners.flink.FlinkRunner");
  }

  /**
   * {@code line} with each {@code ${NAME}} replaced by the variable's value; anything else,
   * another {@code $} included, is left as it is.
   */
  static String expand(String line, Function<String, String> env, String file) {
    Matcher m = VARIABLE.matcher(line);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = env.apply(m.group(1));
      if (value == null || value.isEmpty()) {
        throw new IllegalArgumentException("runner config " + file + ": " + line + " needs the"
            + " environment variable " + m.group(1) + ", which is "
            + (value == null ? "not set" : "empty") + " (set it, or give --" + name(line)
            + "=... on the command line)");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  static List<String> readConfig(Path file) {
    List<String> lines = new ArrayList<>();
    try {
      for (String raw : Files.readAllLines(file)) {
        String line = raw.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        if (!line.startsWith("--")) {
          throw new IllegalArgumentException(
              "runner config " + file + ": '" + line + "' is not a --name=value option");
        }
        lines.add(line);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read runner config " + file + ": " + e.getMessage());
    }
    return lines;
  }

  private static String value(String arg) {
    int eq = arg.indexOf('=');
    return eq < 0 ? "" : arg.substring(eq + 1);
  }

  private static String name(String arg) {
    String s = arg.startsWith("--") ? arg.substring(2) : arg;
    int eq = s.indexOf('=');
    return eq < 0 ? s : s.substring(0, eq);
  }
}
