package dev.featurebeam.pipelines.generate;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;

/**
 * What {@link EventGenerator} writes. Immutable; build it with {@link #builder()}.
 *
 * <p>How the fractions are counted (exact numbers, not probabilities):
 *
 * <ul>
 *   <li>{@code events} base events are generated, each with its own event_id.
 *   <li>{@link #malformedCount()} = round(events * malformedFraction) of those base events are
 *       broken on purpose; a malformed line replaces a good one, so it adds no line.
 *   <li>{@link #duplicateCount()} = round(events * duplicateFraction) extra lines repeat the
 *       event_id of an earlier, well-formed base event (never a malformed one, and no event is
 *       repeated twice): {@link #exactDuplicateCount()} = the larger half are byte-identical
 *       copies, {@link #conflictingDuplicateCount()} = the smaller half differ in amount or ts.
 *   <li>Records written = events + duplicateCount (plus one header line per CSV file). A
 *       validating, de-duplicating reader therefore sees: valid = events - malformedCount,
 *       quarantined = malformedCount, duplicates = duplicateCount.
 * </ul>
 */
public record GeneratorConfig(
    long seed,
    long events,
    int users,
    int days,
    LocalDate startDate,
    double skew,
    double duplicateFraction,
    double malformedFraction,
    int shards,
    EventFormat format) {

  public GeneratorConfig {
    require(events >= 0, "events must be >= 0");
    require(users >= 1, "users must be >= 1");
    require(days >= 1, "days must be >= 1");
    require(startDate != null, "startDate is required");
    require(skew >= 0 && Double.isFinite(skew), "skew must be a finite number >= 0");
    require(duplicateFraction >= 0 && duplicateFraction <= 1, "duplicateFraction must be in [0, 1]");
    require(malformedFraction >= 0 && malformedFraction <= 1, "malformedFraction must be in [0, 1]");
    require(shards >= 1, "shards must be >= 1");
    // Each duplicate repeats a different well-formed event, so there must be enough of them.
    require(Math.round(events * duplicateFraction) <= events - Math.round(events * malformedFraction),
        "duplicateFraction + malformedFraction must not exceed 1");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Base events that are broken on purpose: round(events * malformedFraction). */
  public long malformedCount() {
    return Math.round(events * malformedFraction);
  }

  /** Extra lines that repeat an earlier event_id: round(events * duplicateFraction). */
  public long duplicateCount() {
    return Math.round(events * duplicateFraction);
  }

  /** Duplicates that are exact copies of the earlier line: the larger half. */
  public long exactDuplicateCount() {
    return duplicateCount() - conflictingDuplicateCount();
  }

  /** Duplicates with the same event_id but a different amount (or ts, or category). */
  public long conflictingDuplicateCount() {
    return duplicateCount() / 2;
  }

  /** Records written, headers not counted: events + duplicateCount(). */
  public long totalRecords() {
    return events + duplicateCount();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .seed(seed).events(events).users(users).days(days).startDate(startDate).skew(skew)
        .duplicateFraction(duplicateFraction).malformedFraction(malformedFraction)
        .shards(shards).format(format);
  }

  /** Starts from the defaults: seed 42, 100000 events, 2000 users, 60 days from 2025-01-01. */
  public static final class Builder {
    private long seed = 42;
    private long events = 100_000;
    private int users = 2_000;
    private int days = 60;
    private LocalDate startDate = LocalDate.of(2025, 1, 1);
    private double skew = 1.0;
    private double duplicateFraction = 0.005;
    private double malformedFraction = 0.002;
    private int shards = 1;
    private EventFormat format; // null: from the output file's extension

    private Builder() {}

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder events(long v) {
      events = v;
      return this;
    }

    public Builder users(int v) {
      users = v;
      return this;
    }

    public Builder days(int v) {
      days = v;
      return this;
    }

    public Builder startDate(LocalDate v) {
      startDate = v;
      return this;
    }

    /** Zipf exponent of user activity: 0 = every user alike, 1 = the classic long tail. */
    public Builder skew(double v) {
      skew = v;
      return this;
    }

    public Builder duplicateFraction(double v) {
      duplicateFraction = v;
      return this;
    }

    public Builder malformedFraction(double v) {
      malformedFraction = v;
      return this;
    }

    /** With more than one shard the output path is a folder of out-000-of-004.csv files. */
    public Builder shards(int v) {
      shards = v;
      return this;
    }

    /** Overrides the format the output path's extension would choose; null to infer it. */
    public Builder format(EventFormat v) {
      format = v;
      return this;
    }

    /**
     * Sets one option by its name as it appears on a command line ({@code seed}, {@code events},
     * {@code users}, {@code days}, {@code startDate}, {@code skew}, {@code duplicateFraction},
     * {@code malformedFraction}, {@code shards}, {@code format}); the error names the option.
     */
    public Builder set(String name, String value) {
      try {
        switch (name) {
          case "seed":
            return seed(Long.parseLong(value));
          case "events":
            return events(Long.parseLong(value));
          case "users":
            return users(Integer.parseInt(value));
          case "days":
            return days(Integer.parseInt(value));
          case "startDate":
            return startDate(LocalDate.parse(value));
          case "skew":
            return skew(Double.parseDouble(value));
          case "duplicateFraction":
            return duplicateFraction(Double.parseDouble(value));
          case "malformedFraction":
            return malformedFraction(Double.parseDouble(value));
          case "shards":
            return shards(Integer.parseInt(value));
          case "format":
            return format(EventFormat.fromName(value));
          default:
            throw new IllegalArgumentException("unknown generator option --" + name);
        }
      } catch (NumberFormatException | DateTimeParseException e) {
        throw new IllegalArgumentException("--" + name + "=" + value + " is not a valid value", e);
      }
    }

    public GeneratorConfig build() {
      return new GeneratorConfig(seed, events, users, days, startDate, skew, duplicateFraction,
          malformedFraction, shards, format);
    }
  }
}
