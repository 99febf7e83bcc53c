package dev.featurebeam.pipelines;

import java.lang.reflect.Method;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * Parses a command's options with Beam's {@link PipelineOptionsFactory} (with validation, so
 * {@code @Validation.Required} holds) and turns Beam's messages into one FeatureBeam line: an
 * unknown option with Beam's suggestion, a missing required one, a value of the wrong type.
 */
final class CommandOptions {
  private static final Pattern UNKNOWN = Pattern.compile(
      "missing a property named '([^']*)'\\.(?: Did you mean '([^']*)'\\?"
          + "| Did you mean one of \\[([^\\]]*)\\]\\?)?");
  private static final Pattern REQUIRED = Pattern.compile("Missing required value for \\[--([^,]+),");

  private CommandOptions() {}

  /**
   * The options {@code args} give, as {@code iface}; every option Beam has registered (the
   * runners') passes too.
   *
   * @throws IllegalArgumentException with one line that names the option
   */
  static <T extends PipelineOptions> T parse(String command, String[] args, Class<T> iface) {
    for (String a : args) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("'" + a + "' is not an option: options are --name=value");
      }
    }
    try {
      T options = PipelineOptionsFactory.fromArgs(args).withValidation().as(iface);
      withoutRegionLookup(options, args);
      return options;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(explain(command, args, iface, e), e);
    }
  }

  /**
   * Beam's S3 file system, registered for {@code s3://} stores, resolves its region as soon as
   * any pipeline sets up Beam's file systems; without {@code --awsRegion}, {@code AWS_REGION} or
   * {@code aws.region}, AWS's chain then asks the EC2 instance metadata address (169.254.169.254),
   * a wait on any other machine. A command that names no {@code s3://} path never uses the
   * region, so it gets a fixed one and asks nobody.
   */
  static void withoutRegionLookup(PipelineOptions options, String[] args) {
    for (String a : args) {
      if (a.startsWith("--awsRegion=") || a.contains("s3://")) {
        return;
      }
    }
    if (System.getenv("AWS_REGION") != null || System.getProperty("aws.region") != null) {
      return;
    }
    options.as(org.apache.beam.sdk.io.aws2.options.AwsOptions.class)
        .setAwsRegion(software.amazon.awssdk.regions.Region.US_EAST_1);
  }

  /**
   * Refuses any option {@code iface} does not declare, for a command that runs no pipeline and so
   * takes no runner option; suggests the closest of its own names.
   */
  static void onlyOwn(String command, String[] args, Class<? extends PipelineOptions> iface) {
    Set<String> own = Help.optionNames(iface);
    for (String a : args) {
      String name = name(a);
      if (a.startsWith("--") && !own.contains(name)) {
        throw new IllegalArgumentException(unknown(command, name, closest(name, own)));
      }
    }
  }

  /** Whether {@code args} give option {@code name} at all, whatever its value. */
  static boolean given(String[] args, String name) {
    for (String a : args) {
      if (a.startsWith("--") && name(a).equals(name)) {
        return true;
      }
    }
    return false;
  }

  static String name(String arg) {
    String s = arg.startsWith("--") ? arg.substring(2) : arg;
    int eq = s.indexOf('=');
    return eq < 0 ? s : s.substring(0, eq);
  }

  private static String explain(String command, String[] args,
      Class<? extends PipelineOptions> iface, IllegalArgumentException e) {
    String message = String.valueOf(e.getMessage());
    Matcher unknown = UNKNOWN.matcher(message);
    if (unknown.find()) {
      Set<String> suggestions = new TreeSet<>();
      if (unknown.group(2) != null) {
        suggestions.add(unknown.group(2));
      } else if (unknown.group(3) != null) {
        for (String s : unknown.group(3).split(",\\s*")) {
          suggestions.add(s);
        }
      }
      return unknown(command, unknown.group(1), suggestions);
    }
    Matcher required = REQUIRED.matcher(message);
    if (required.find()) {
      return "--" + required.group(1) + " is required ('featurebeam " + command
          + " --help' describes it)";
    }
    // A value Beam could not convert: its message names the type, not the option; find the option.
    for (String a : args) {
      try {
        PipelineOptionsFactory.fromArgs(a).as(iface);
      } catch (IllegalArgumentException one) {
        return badValue(a, iface, one);
      }
    }
    return firstLine(message);
  }

  private static String unknown(String command, String name, Set<String> suggestions) {
    String line = "unknown option --" + name;
    if (suggestions.size() == 1) {
      return line + "; did you mean --" + suggestions.iterator().next() + "?";
    }
    if (!suggestions.isEmpty()) {
      return line + "; did you mean one of --" + String.join(", --", suggestions) + "?";
    }
    return line + " ('featurebeam " + command + " --help' lists the options)";
  }

  private static String badValue(String arg, Class<? extends PipelineOptions> iface,
      IllegalArgumentException e) {
    String name = name(arg);
    for (Method m : iface.getMethods()) {
      if (m.getParameterCount() == 0 && Help.property(m).equals(name)
          && (m.getName().startsWith("get") || m.getName().startsWith("is"))) {
        Class<?> t = m.getReturnType();
        if (t == int.class || t == long.class || t == Integer.class || t == Long.class) {
          return arg + " is not a whole number";
        }
        if (t == double.class || t == Double.class) {
          return arg + " is not a number";
        }
        if (t == boolean.class || t == Boolean.class) {
          return arg + " is not true or false";
        }
      }
    }
    return arg + ": " + firstLine(String.valueOf(e.getMessage()));
  }

  /** The names within two edits of {@code name}, as Beam suggests them. */
  private static Set<String> closest(String name, Set<String> names) {
    Set<String> out = new TreeSet<>();
    for (String n : names) {
      if (org.apache.commons.lang3.StringUtils.getLevenshteinDistance(name, n) <= 2) {
        out.add(n);
      }
    }
    return out;
  }

  static String firstLine(String message) {
    String line = message.strip().lines().findFirst().orElse("").strip();
    return line.isEmpty() ? line
        : Character.toLowerCase(line.charAt(0)) + line.substring(1).replaceAll("[.\\s]+$", "");
  }
}
