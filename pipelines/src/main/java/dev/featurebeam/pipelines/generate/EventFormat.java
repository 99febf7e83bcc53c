package dev.featurebeam.pipelines.generate;

import java.nio.file.Path;
import java.util.Locale;

/** The file formats the generator writes; chosen from the output file's extension. */
public enum EventFormat {
  CSV("csv"),
  JSONL("jsonl"),
  PARQUET("parquet");

  private final String extension;

  EventFormat(String extension) {
    this.extension = extension;
  }

  /** The extension used for shard files, without the dot. */
  public String extension() {
    return extension;
  }

  /**
   * The format named by a file name's extension ({@code .csv}, {@code .jsonl} or {@code .json},
   * {@code .parquet}), or null when the extension is none of these.
   */
  public static EventFormat fromFileName(Path path) {
    Path name = path.getFileName();
    if (name == null) {
      return null;
    }
    String n = name.toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".csv")) {
      return CSV;
    }
    if (n.endsWith(".jsonl") || n.endsWith(".json")) {
      return JSONL;
    }
    if (n.endsWith(".parquet")) {
      return PARQUET;
    }
    return null;
  }

  /** Parses "csv", "jsonl"/"json" or "parquet", case-insensitively. */
  public static EventFormat fromName(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    switch (n) {
      case "csv":
        return CSV;
      case "jsonl":
      case "json":
        return JSONL;
      case "parquet":
        return PARQUET;
      default:
        throw new IllegalArgumentException("format '" + name + "' must be csv, jsonl or parquet");
    }
  }
}
