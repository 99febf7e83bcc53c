package dev.featurebeam.io.source;

/**
 * Where a CSV line stands with respect to quotes, as Commons CSV's default format reads it: a
 * quote opens a field only as its first character; inside, {@code ""} is a quote and a lone
 * {@code "} closes the field. One rule for {@link CsvRecordReader}, which joins the lines of a
 * quoted field, and {@link FileSplits}, which must never cut inside one: fed one character (or
 * ASCII byte) at a time by {@link #next}, with line ends handled by the caller.
 */
final class CsvQuoting {
  /** At the start of a field, outside quotes. */
  static final int FIELD_START = 0;
  /** Inside an unquoted field. */
  static final int UNQUOTED = 1;
  /** Inside a quoted field. */
  static final int QUOTED = 2;
  /** Inside a quoted field, just after a quote: it closes the field unless another follows. */
  static final int QUOTE_PENDING = 3;

  private CsvQuoting() {}

  /** The state after character {@code c} in state {@code state}. */
  static int next(int state, int c) {
    switch (state) {
      case QUOTED:
        return c == '"' ? QUOTE_PENDING : QUOTED;
      case QUOTE_PENDING:
        if (c == '"') {
          return QUOTED; // "" inside quotes is one quote
        }
        return c == ',' ? FIELD_START : UNQUOTED;
      case FIELD_START:
        if (c == '"') {
          return QUOTED;
        }
        return c == ',' ? FIELD_START : UNQUOTED;
      default:
        return c == ',' ? FIELD_START : UNQUOTED;
    }
  }

  /** Whether a line end in {@code state} falls inside a quoted field (a pending quote closed it). */
  static boolean open(int state) {
    return state == QUOTED;
  }
}
