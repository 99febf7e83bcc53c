package dev.featurebeam.io.source;

/**
 * A source breaks the spec's contract (no file matches, a required field is missing, a column's
 * type cannot hold the declared type). Thrown before the pipeline is built, so that the run stops
 * with one clear message instead of quarantining every record.
 */
public class SchemaContractException extends RuntimeException {
  public SchemaContractException(String message) {
    super(message);
  }

  public SchemaContractException(String message, Throwable cause) {
    super(message, cause);
  }
}
