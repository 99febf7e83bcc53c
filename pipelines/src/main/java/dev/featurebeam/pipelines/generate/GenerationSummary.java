package dev.featurebeam.pipelines.generate;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link EventGenerator#write} wrote, counted from the records themselves.
 *
 * @param records lines of data written, headers not counted: events + duplicates
 * @param events base events (distinct event ids)
 * @param malformed base events broken on purpose; malformedByKind splits them by kind
 */
public record GenerationSummary(
    List<Path> files,
    EventFormat format,
    long records,
    long events,
    long malformed,
    Map<Malformation, Long> malformedByKind,
    long exactDuplicates,
    long conflictingDuplicates) {

  public GenerationSummary {
    files = List.copyOf(files);
    malformedByKind = Map.copyOf(malformedByKind);
  }

  /** One line for a command line to print. */
  public String describe() {
    return String.format(java.util.Locale.ROOT,
        "wrote %d records (%d events, %d malformed, %d exact + %d conflicting duplicates) as %s to %d file(s)",
        records, events, malformed, exactDuplicates, conflictingDuplicates,
        format.extension(), files.size());
  }
}
