package dev.featurebeam.spec;

/** A feature spec that cannot be used; the message names the line, field or feature at fault. */
public class SpecException extends IllegalArgumentException {
  public SpecException(String message) {
    super(message);
  }

  public SpecException(String message, Throwable cause) {
    super(message, cause);
  }
}
