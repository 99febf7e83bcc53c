package dev.featurebeam.pipelines;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * The help texts: the command list, and a command's own options as its options interfaces declare
 * them (their @Description, @Default and @Validation.Required), grouped by interface as Beam's own
 * help does, required ones first. Beam's generic options are left out: they pass through, and one line says so.
 */
final class Help {
  static final int WIDTH = 100;

  private Help() {}

  /** One of the commands, as the help lists it. */
  record Command(String name, String summary, String usage,
      List<Class<? extends PipelineOptions>> groups, String footer) {}

  static String commands(List<Command> commands) {
    StringBuilder b = new StringBuilder();
    b.append("FeatureBeam ").append(Version.get())
        .append(": time-correct ML features from raw events, on Apache Beam\n\n");
    b.append("usage: featurebeam COMMAND [--option=value ...]\n\ncommands:\n");
    for (Command c : commands) {
      b.append(String.format(Locale.ROOT, "  %-12s %s%n", c.name(), c.summary()));
    }
    b.append("\n'featurebeam COMMAND --help' lists a command's options;"
        + " 'featurebeam --version' prints the version.\n");
    return b.toString();
  }

  static String command(Command c) {
    StringBuilder b = new StringBuilder();
    b.append("featurebeam ").append(c.name()).append(": ").append(c.summary()).append("\n\n");
    b.append("usage: ").append(c.usage()).append('\n');
    String heading = "\noptions:\n";
    for (Class<? extends PipelineOptions> group : c.groups()) {
      List<Method> getters = getters(group);
      if (getters.isEmpty()) {
        continue;
      }
      b.append(heading);
      heading = "\n"; // a blank line between the groups
      for (Method m : getters) {
        option(b, m);
      }
    }
    if (c.footer() != null) {
      b.append('\n').append(c.footer()).append('\n');
    }
    return b.toString();
  }

  /** The option names a command takes: its interface's own, without Beam's. */
  static Set<String> optionNames(Class<? extends PipelineOptions> options) {
    Set<String> names = new LinkedHashSet<>();
    for (Method m : options.getMethods()) {
      if (isOwnGetter(m)) {
        names.add(property(m));
      }
    }
    return names;
  }

  /** The getters {@code group} itself declares, required ones first, then by name. */
  private static List<Method> getters(Class<?> group) {
    List<Method> out = new ArrayList<>();
    for (Method m : group.getDeclaredMethods()) {
      if (isOwnGetter(m)) {
        out.add(m);
      }
    }
    out.sort(Comparator.comparing((Method m) -> m.getAnnotation(Validation.Required.class) == null)
        .thenComparing(Help::property, String.CASE_INSENSITIVE_ORDER));
    return out;
  }

  private static boolean isOwnGetter(Method m) {
    return !java.lang.reflect.Modifier.isStatic(m.getModifiers())
        && m.getParameterCount() == 0
        && (m.getName().startsWith("get") || m.getName().startsWith("is"))
        && !m.getDeclaringClass().getName().startsWith("org.apache.beam.");
  }

  static String property(Method getter) {
    String n = getter.getName().startsWith("is") ? getter.getName().substring(2)
        : getter.getName().substring(3);
    return Character.toLowerCase(n.charAt(0)) + n.substring(1);
  }

  private static void option(StringBuilder b, Method m) {
    String name = property(m);
    StringBuilder head = new StringBuilder("  --").append(name).append('=').append(placeholder(m));
    if (m.getAnnotation(Validation.Required.class) != null) {
      head.append("  (required)");
    }
    String dflt = defaultOf(m);
    if (dflt != null) {
      head.append("  (default ").append(dflt).append(')');
    }
    b.append(head).append('\n');
    Description d = m.getAnnotation(Description.class);
    if (d != null) {
      wrap(b, d.value(), "      ");
    }
  }

  /** What the value looks like: N, X, true|false, or the option's name in capitals. */
  private static String placeholder(Method m) {
    Class<?> t = m.getReturnType();
    if (t == int.class || t == long.class || t == Integer.class || t == Long.class) {
      return "N";
    }
    if (t == double.class || t == Double.class) {
      return "X";
    }
    if (t == boolean.class || t == Boolean.class) {
      return "true|false";
    }
    return property(m).replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }

  private static String defaultOf(Method m) {
    if (m.getAnnotation(Default.Boolean.class) != null) {
      return String.valueOf(m.getAnnotation(Default.Boolean.class).value());
    }
    if (m.getAnnotation(Default.Integer.class) != null) {
      return String.valueOf(m.getAnnotation(Default.Integer.class).value());
    }
    if (m.getAnnotation(Default.Long.class) != null) {
      return String.valueOf(m.getAnnotation(Default.Long.class).value());
    }
    if (m.getAnnotation(Default.Double.class) != null) {
      return String.valueOf(m.getAnnotation(Default.Double.class).value());
    }
    if (m.getAnnotation(Default.String.class) != null) {
      return m.getAnnotation(Default.String.class).value();
    }
    if (m.getAnnotation(Default.Enum.class) != null) {
      return m.getAnnotation(Default.Enum.class).value();
    }
    return null;
  }

  private static void wrap(StringBuilder b, String text, String indent) {
    StringBuilder line = new StringBuilder(indent);
    for (String word : text.split("\\s+")) {
      if (line.length() > indent.length() && line.length() + 1 + word.length() > WIDTH) {
        b.append(line).append('\n');
        line = new StringBuilder(indent);
      }
      if (line.length() > indent.length()) {
        line.append(' ');
      }
      line.append(word);
    }
    b.append(line).append('\n');
  }
}
