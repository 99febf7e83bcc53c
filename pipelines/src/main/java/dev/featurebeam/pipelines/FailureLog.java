package dev.featurebeam.pipelines;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The file a failure's details go to, so that standard error gets one line: the command, the
 * stack trace, and what the libraries printed meanwhile ({@link HeldOutput}). It is written into
 * the run's output folder when there is one, else into {@code java.io.tmpdir}.
 */
final class FailureLog {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  private FailureLog() {}

  /**
   * Writes the log into the first of {@code dirs} that takes it (then the temporary folder) and
   * returns its path.
   *
   * @throws IOException when no folder takes it
   */
  static Path write(List<Path> dirs, String[] args, Throwable failure, String held)
      throws IOException {
    StringBuilder b = new StringBuilder();
    b.append("featurebeam ").append(Version.get()).append(" at ").append(LocalDateTime.now())
        .append('\n').append("command: featurebeam ").append(String.join(" ", args)).append("\n\n");
    if (!held.isEmpty()) {
      b.append("-- what the runner and libraries printed:\n").append(held);
      if (!held.endsWith("\n")) {
        b.append('\n');
      }
      b.append('\n');
    }
    b.append("-- the failure:\n").append(stackTrace(failure));
    byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);

    List<Path> candidates = new ArrayList<>(dirs);
    candidates.add(Path.of(System.getProperty("java.io.tmpdir")));
    IOException last = null;
    String name = "featurebeam-" + LocalDateTime.now().format(STAMP);
    for (Path dir : candidates) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      for (int n = 0; n < 100; n++) {
        Path file = dir.resolve(name + (n == 0 ? "" : "-" + n) + ".log").toAbsolutePath();
        try {
          Files.write(file, bytes, java.nio.file.StandardOpenOption.CREATE_NEW);
          return file;
        } catch (FileAlreadyExistsException e) {
          continue; // another failure in the same second
        } catch (IOException e) {
          last = e;
          break;
        }
      }
    }
    throw last != null ? last : new IOException("no folder to write a log file into");
  }

  static String stackTrace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w, true));
    return w.toString();
  }
}
