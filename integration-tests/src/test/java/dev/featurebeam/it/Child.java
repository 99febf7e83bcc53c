package dev.featurebeam.it;

import dev.featurebeam.pipelines.FeatureBeamCli;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The command line in a child JVM, on the test's own class path: for what a test cannot do in its
 * own process, such as a crash at a chosen point (the child halts) or two runs that lock the store
 * against each other as two processes do.
 */
final class Child {
  private final Process process;
  private final Path out;
  private final Path err;
  private final String[] args;

  private Child(Process process, Path out, Path err, String[] args) {
    this.process = process;
    this.out = out;
    this.err = err;
    this.args = args;
  }

  /** Starts {@code featurebeam ARGS} with the given system properties (e.g. fault points). */
  static Child start(Path workDir, Map<String, String> properties, String... args) {
    return start(workDir, properties, Map.of(), args);
  }

  /** As above, with {@code env} added to the child's environment. */
  static Child start(Path workDir, Map<String, String> properties, Map<String, String> env,
      String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.add(FeatureBeamCli.class.getName());
    command.addAll(List.of(args));
    try {
      Files.createDirectories(workDir);
      Path out = Files.createTempFile(workDir, "child", ".out");
      Path err = Files.createTempFile(workDir, "child", ".err");
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      builder.environment().putAll(env);
      Process p = builder.start();
      return new Child(p, out, err, args);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  long pid() {
    return process.pid();
  }

  /** Kills the child as kill -9 does (SIGKILL: no shutdown hook runs) and waits for it to end. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("featurebeam " + String.join(" ", args) + " survived SIGKILL");
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** What the child has written on standard error so far. */
  String errSoFar() {
    try {
      return Files.readString(err, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What the child has written on standard output so far. */
  String outSoFar() {
    try {
      return Files.readString(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until standard output holds {@code text}, failing after {@code seconds}. */
  void awaitOut(String text, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!outSoFar().contains(text)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("no '" + text + "' from featurebeam " + String.join(" ", args)
            + " (alive: " + process.isAlive() + ")\n" + errSoFar());
      }
      Thread.sleep(50);
    }
  }

  /** Stops the child as kill does (SIGTERM: shutdown hooks run) and waits for it to end. */
  int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("featurebeam " + String.join(" ", args) + " survived SIGTERM");
    }
    return process.exitValue();
  }

  /** Waits until standard error holds {@code text}, failing after {@code seconds}. */
  void awaitErr(String text, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (!errSoFar().contains(text)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("no '" + text + "' from featurebeam " + String.join(" ", args)
            + " (alive: " + process.isAlive() + ")\n" + errSoFar());
      }
      Thread.sleep(50);
    }
  }

  /** Waits for the child to end, at most {@code seconds}, and returns what it did. */
  Cli.Result await(int seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("featurebeam " + String.join(" ", args) + " still runs after "
          + seconds + " s\n" + errSoFar());
    }
    try {
      return new Cli.Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          errSoFar(), args);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
