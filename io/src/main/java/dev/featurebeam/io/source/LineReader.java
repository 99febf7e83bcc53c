package dev.featurebeam.io.source;

import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import javax.annotation.Nullable;

/**
 * Reads lines as {@link java.io.BufferedReader#readLine} does (each ended by {@code \n}, {@code
 * \r} or {@code \r\n}, the last one possibly by the end of the input), but keeps at most a given
 * number of characters of a line: BufferedReader has no bound, so one line without a line break
 * (a broken or hostile file) would be read whole into memory. The rest of a longer line is read
 * and counted, not kept. Not thread-safe.
 */
final class LineReader implements Closeable {
  private final Reader in;
  /** BufferedReader's size. */
  private final char[] buffer = new char[8192];
  private int pos;
  private int end;
  /** The last line ended with {@code \r}: a {@code \n} right after it ends nothing. */
  private boolean skipLf;

  private long lastLength;

  LineReader(Reader in) {
    this.in = in;
  }

  /**
   * The next line without its line break, or its first {@code keep} characters when it is longer
   * ({@link #lastLength} says how long it was); null at the end of the input.
   */
  @Nullable
  String readLine(int keep) throws IOException {
    StringBuilder kept = null;
    long length = 0;
    while (true) {
      if (pos >= end && !fill()) {
        if (kept == null) {
          return null;
        }
        lastLength = length;
        return kept.toString();
      }
      if (skipLf) {
        skipLf = false;
        if (buffer[pos] == '\n') {
          pos++;
          continue;
        }
      }
      int start = pos;
      int i = start;
      char[] b = buffer;
      int e = end;
      while (i < e) {
        char c = b[i];
        if (c == '\n' || c == '\r') {
          break;
        }
        i++;
      }
      int n = i - start;
      boolean ended = i < end;
      if (ended) {
        skipLf = buffer[i] == '\r';
        pos = i + 1;
        if (kept == null && n <= keep) {
          // The usual case: the whole line is in the buffer.
          lastLength = n;
          return new String(buffer, start, n);
        }
      } else {
        pos = end;
      }
      if (kept == null) {
        kept = new StringBuilder(Math.min(keep, Math.max(n, 16)));
      }
      kept.append(buffer, start, (int) Math.min(n, Math.max(0, keep - length)));
      length += n;
      if (ended) {
        lastLength = length;
        return kept.toString();
      }
    }
  }

  /** The length in characters of the line {@link #readLine} last returned, all of it. */
  long lastLength() {
    return lastLength;
  }

  private boolean fill() throws IOException {
    int n;
    do {
      n = in.read(buffer, 0, buffer.length);
    } while (n == 0);
    if (n < 0) {
      return false;
    }
    pos = 0;
    end = n;
    return true;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
