package dev.featurebeam.spec;

import java.time.LocalDate;

/**
 * Where the as-of instant T of an as-of date D falls. A window of length L covers event times in
 * [T - L, T).
 */
public enum AsOf {
  /** T = D+1 at 00:00 UTC: the whole of day D is visible. */
  END_OF_DAY("end_of_day", 1),
  /** T = D at 00:00 UTC: nothing of day D is visible. */
  START_OF_DAY("start_of_day", 0);

  public static final long DAY_MILLIS = 86_400_000L;

  private final String yamlName;
  private final int dayShift;

  AsOf(String yamlName, int dayShift) {
    this.yamlName = yamlName;
    this.dayShift = dayShift;
  }

  public String yamlName() {
    return yamlName;
  }

  /** The as-of instant of {@code date}, in epoch milliseconds. */
  public long instantOf(LocalDate date) {
    return instantOfEpochDay(date.toEpochDay());
  }

  public long instantOfEpochDay(long epochDay) {
    return (epochDay + dayShift) * DAY_MILLIS;
  }

  /** The as-of date whose instant is {@code instantMillis} (which must be a UTC midnight). */
  public long epochDayOfInstant(long instantMillis) {
    return Math.floorDiv(instantMillis, DAY_MILLIS) - dayShift;
  }

  public LocalDate dateOfInstant(long instantMillis) {
    return LocalDate.ofEpochDay(epochDayOfInstant(instantMillis));
  }

  /** The date of {@code epochDay} as YYYY-MM-DD. */
  public static String utcDate(long epochDay) {
    return LocalDate.ofEpochDay(epochDay).toString();
  }

  public static AsOf fromYaml(String name) {
    for (AsOf a : values()) {
      if (a.yamlName.equals(name)) {
        return a;
      }
    }
    return null;
  }
}
