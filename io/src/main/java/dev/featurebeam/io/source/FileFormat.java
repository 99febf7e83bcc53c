package dev.featurebeam.io.source;

import java.util.Locale;

/** The format of a source file, chosen by its extension. */
public enum FileFormat {
  /** Comma-separated values with a header row (RFC 4180 quoting). */
  CSV,
  /** One JSON object per line ({@code .jsonl} or {@code .json}). */
  JSONL,
  /** Apache Parquet, read through its Avro schema. */
  PARQUET;

  /** Returns the format of {@code path} or fails with an error naming the file. */
  public static FileFormat of(String path) {
    String name = path.toLowerCase(Locale.ROOT);
    if (name.endsWith(".csv")) {
      return CSV;
    }
    if (name.endsWith(".jsonl") || name.endsWith(".json")) {
      return JSONL;
    }
    if (name.endsWith(".parquet")) {
      return PARQUET;
    }
    throw new IllegalArgumentException(
        "unsupported source file " + path + ": its name must end in .csv, .jsonl, .json or .parquet");
  }
}
