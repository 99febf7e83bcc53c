package dev.featurebeam.pipelines;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What the libraries print on standard error while a command runs (Beam's, Flink's and Hadoop's
 * logs through SLF4J, stack traces they print themselves), held back from the terminal: a failure
 * writes it into its log file, {@code --verbose} shows it as it comes. FeatureBeam's own lines go
 * to the terminal's stream directly; a line that starts with {@value #OWN} and arrives here anyway
 * (the store's fault points print on {@code System.err}, then may halt the JVM) passes through too.
 */
final class HeldOutput extends OutputStream {
  /** Enough for every warning and error a run logs; past it the rest is dropped and counted. */
  static final int MAX_BYTES = 8 << 20;

  /** How FeatureBeam's own lines start. */
  static final String OWN = "featurebeam: ";

  /** For in-process callers, whose standard error is their own: nothing is held. */
  static final HeldOutput NONE = new HeldOutput(null);

  private final PrintStream terminal;
  private final ByteArrayOutputStream held = new ByteArrayOutputStream();
  /** The line being written, until its end says whether it is FeatureBeam's own. */
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private long dropped;
  private volatile boolean tee;

  private HeldOutput(PrintStream terminal) {
    this.terminal = terminal;
  }

  /**
   * Makes {@code System.err} this stream and returns it; {@link #terminal()} is the standard error
   * it replaced. Call before anything logs: SLF4J's simple logger looks System.err up on each line,
   * but a logger that keeps the stream it found would still print to the terminal.
   */
  static HeldOutput install() {
    HeldOutput h = over(System.err);
    System.setErr(new PrintStream(h, true, StandardCharsets.UTF_8));
    return h;
  }

  /** Holds what is written to it back from {@code terminal}. */
  static HeldOutput over(PrintStream terminal) {
    return new HeldOutput(terminal);
  }

  PrintStream terminal() {
    return terminal;
  }

  /** From now on, also copy what comes to the terminal (--verbose). */
  void tee(boolean on) {
    tee = on && terminal != null;
  }

  boolean isTee() {
    return tee;
  }

  @Override
  public synchronized void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    if (terminal == null) {
      return;
    }
    if (tee) {
      terminal.write(b, off, len);
    } else {
      passOwnLines(b, off, len);
    }
    int room = MAX_BYTES - held.size();
    held.write(b, off, Math.min(room, len));
    dropped += Math.max(0, len - room);
  }

  private void passOwnLines(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (line.size() < MAX_BYTES) {
        line.write(b[i]);
      }
      if (b[i] == '\n') {
        byte[] l = line.toByteArray();
        line.reset();
        if (new String(l, StandardCharsets.UTF_8).startsWith(OWN)) {
          terminal.write(l, 0, l.length);
          terminal.flush();
        }
      }
    }
  }

  /** Everything held so far, as text; empty for {@link #NONE}. */
  synchronized String text() {
    String s = held.toString(StandardCharsets.UTF_8);
    return dropped == 0 ? s : s + "\n[" + dropped + " more bytes not kept]\n";
  }

  @Override
  public void flush() throws IOException {
    if (tee) {
      terminal.flush();
    }
  }
}
