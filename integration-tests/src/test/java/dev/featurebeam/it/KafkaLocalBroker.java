package dev.featurebeam.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A broker of runners-config/kafka-local.sh in a state folder of the caller's and on a free port,
 * for a test class to start once and stop at the end.
 */
final class KafkaLocalBroker {
  /** A cold start resolves the broker's jars through Maven first. */
  private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(5);

  private final Path stateDir;
  private final int port;

  private KafkaLocalBroker(Path stateDir, int port) {
    this.stateDir = stateDir;
    this.port = port;
  }

  /** Starts a broker keeping its state in {@code stateDir}; returns once it answers. */
  static KafkaLocalBroker start(Path stateDir) throws Exception {
    KafkaLocalBroker broker = new KafkaLocalBroker(stateDir, freePort());
    broker.script("start", "--port=" + broker.port);
    return broker;
  }

  String servers() {
    return "127.0.0.1:" + port;
  }

  void stop() throws Exception {
    script("stop");
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Runs the script; fails with its output unless it exits 0 within the timeout. */
  private void script(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Cli.runnerConfig("kafka-local.sh").toString());
    command.addAll(List.of(args));
    Files.createDirectories(stateDir);
    Path log = Files.createTempFile(stateDir.getParent(), "kafka-local-", ".log");
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("KAFKA_LOCAL_DIR", stateDir.toString());
    long started = System.nanoTime();
    Process p = pb.start();
    String call = "kafka-local.sh " + String.join(" ", args);
    if (!p.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(call + " took more than " + SCRIPT_TIMEOUT + ":\n"
          + Files.readString(log));
    }
    // Goes to target/surefire-reports/*-output.txt, like the batch runs' times.
    System.out.printf("%s: exit %d in %.1f s%n", call, p.exitValue(),
        (System.nanoTime() - started) / 1e9);
    if (p.exitValue() != 0) {
      throw new AssertionError(call + " exited " + p.exitValue() + ":\n" + Files.readString(log));
    }
  }
}
