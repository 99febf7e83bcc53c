package dev.featurebeam.benchmarks;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses {@code --name=value} options (and bare {@code --flag}s), keeping other words in order. */
final class BenchArgs {
  final Map<String, String> options = new LinkedHashMap<>();
  final List<String> positional = new ArrayList<>();

  private BenchArgs() {}

  static BenchArgs parse(String[] args) {
    BenchArgs a = new BenchArgs();
    for (String s : args) {
      if (s.startsWith("--")) {
        int eq = s.indexOf('=');
        if (eq < 0) {
          a.options.put(s.substring(2), "true");
        } else {
          a.options.put(s.substring(2, eq), s.substring(eq + 1));
        }
      } else {
        a.positional.add(s);
      }
    }
    return a;
  }

  String required(String name) {
    String v = options.get(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  String get(String name, String fallback) {
    String v = options.get(name);
    return v == null ? fallback : v;
  }

  boolean flag(String name) {
    return Boolean.parseBoolean(options.getOrDefault(name, "false"));
  }

  LocalDate date(String name) {
    String v = required(name);
    try {
      return LocalDate.parse(v);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("--" + name + "=" + v + " is not a date (YYYY-MM-DD)");
    }
  }

  /** The {@code --from}/{@code --to} as-of range, checked. */
  LocalDate[] range() {
    LocalDate from = date("from");
    LocalDate to = date("to");
    if (to.isBefore(from)) {
      throw new IllegalArgumentException("--to " + to + " is before --from " + from);
    }
    return new LocalDate[] {from, to};
  }
}
