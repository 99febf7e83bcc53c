package dev.featurebeam.pipelines;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.joda.time.Duration;

/** Durations on the command line: {@code 0}, {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d}. */
final class Durations {
  private static final Pattern FORM = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)?");

  private Durations() {}

  static Duration parse(String option, String value) {
    Matcher m = value == null ? null : FORM.matcher(value.trim());
    if (m == null || !m.matches() || (m.group(2) == null && !m.group(1).equals("0"))) {
      throw new IllegalArgumentException("--" + option + "=" + value
          + ": not a duration (e.g. 500ms, 5s, 2m, 1h, 1d, or 0)");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "ms" : m.group(2);
    switch (unit) {
      case "ms":
        return Duration.millis(n);
      case "s":
        return Duration.standardSeconds(n);
      case "m":
        return Duration.standardMinutes(n);
      case "h":
        return Duration.standardHours(n);
      default:
        return Duration.standardDays(n);
    }
  }
}
