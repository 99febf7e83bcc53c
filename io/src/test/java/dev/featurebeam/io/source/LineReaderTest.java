package dev.featurebeam.io.source;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LineReaderTest {
  /** A reader that hands out at most a few characters per call, to cut lines at every place. */
  private static Reader trickling(String text, SplittableRandom random) {
    return new Reader() {
      private int pos;

      @Override
      public int read(char[] buf, int off, int len) {
        if (pos >= text.length()) {
          return -1;
        }
        int n = Math.min(Math.min(len, 1 + random.nextInt(7)), text.length() - pos);
        text.getChars(pos, pos + n, buf, off);
        pos += n;
        return n;
      }

      @Override
      public void close() {}
    };
  }

  private static List<String> lines(LineReader in) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line = in.readLine(Integer.MAX_VALUE); line != null; line = in.readLine(Integer.MAX_VALUE)) {
      assertThat(in.lastLength(), is((long) line.length()));
      out.add(line);
    }
    return out;
  }

  @Test
  void givesTheLinesOfBufferedReader() throws IOException {
    char[] alphabet = {'a', '\n', '\r', ' ', 'é', '\uD83D', '\uDE00'};
    SplittableRandom random = new SplittableRandom(7);
    for (int k = 0; k < 5_000; k++) {
      StringBuilder text = new StringBuilder();
      for (int len = random.nextInt(30); len > 0; len--) {
        text.append(alphabet[random.nextInt(alphabet.length)]);
      }
      List<String> expected = new BufferedReader(new StringReader(text.toString())).lines().toList();
      String where = "[" + text.toString().replace("\r", "\\r").replace("\n", "\\n") + "]";
      assertThat(where, lines(new LineReader(new StringReader(text.toString()))), is(expected));
      assertThat(where, lines(new LineReader(trickling(text.toString(), random))), is(expected));
    }
    // Lines across the buffer's ends (8 Ki characters): the first fill ends between \r and \n.
    StringBuilder big = new StringBuilder("x".repeat(8191)).append("\r\n");
    while (big.length() < 300_000) {
      big.append("x".repeat(random.nextInt(70_000))).append(random.nextBoolean() ? "\r\n" : "\r");
    }
    List<String> expected = new BufferedReader(new StringReader(big.toString())).lines().toList();
    assertThat(lines(new LineReader(new StringReader(big.toString()))), is(expected));
  }

  @Test
  void keepsAtMostTheGivenCharactersOfALine() throws IOException {
    LineReader in = new LineReader(new StringReader("abcd\nabcde\n\nxy"));
    assertThat(in.readLine(4), is("abcd"));
    assertThat(in.lastLength(), is(4L));
    assertThat(in.readLine(4), is("abcd"));
    assertThat(in.lastLength(), is(5L));
    assertThat(in.readLine(0), is(""));
    assertThat(in.lastLength(), is(0L));
    assertThat(in.readLine(1), is("x"));
    assertThat(in.lastLength(), is(2L));
    assertThat(in.readLine(4), nullValue());
  }

  /** A line longer than any array is read through and counted, never held. */
  @Test
  void aLineLongerThanAnArrayCanHoldIsCountedNotKept() throws IOException {
    long length = (1L << 31) + 5;
    Reader endless = new Reader() {
      private long left = length;
      private String tail = "\nok\n";

      @Override
      public int read(char[] buf, int off, int len) {
        if (left > 0) {
          int n = (int) Math.min(len, left);
          java.util.Arrays.fill(buf, off, off + n, 'x');
          left -= n;
          return n;
        }
        if (tail.isEmpty()) {
          return -1;
        }
        int n = Math.min(len, tail.length());
        tail.getChars(0, n, buf, off);
        tail = tail.substring(n);
        return n;
      }

      @Override
      public void close() {}
    };
    LineReader in = new LineReader(endless);
    assertThat(in.readLine(10), is("x".repeat(10)));
    assertThat(in.lastLength(), is(length));
    assertThat(in.readLine(10), is("ok"));
    assertThat(in.readLine(10), nullValue());
  }
}
