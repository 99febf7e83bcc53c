package dev.featurebeam.it;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Adobe's S3Mock in a child JVM on loopback, from its own class path (runners-config/s3mock/pom.xml,
 * resolved by Maven on first use and kept in target/): its AWS SDK and Spring Boot never share a
 * class path with Beam's. Path-style requests only ({@code http://127.0.0.1:PORT/bucket/key}).
 */
final class S3MockServer {
  /** A cold start resolves S3Mock's jars through Maven first. */
  private static final Duration RESOLVE_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Process process;
  private final int port;
  private final Path log;

  private S3MockServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts S3Mock with {@code bucket}, keeping its objects under {@code dir}; returns once it answers. */
  static S3MockServer start(Path dir, String bucket) throws Exception {
    Files.createDirectories(dir);
    String classPath = classPath();
    int port = KafkaLocalBroker.freePort();
    int httpsPort = KafkaLocalBroker.freePort();
    Path log = dir.resolve("s3mock.log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classPath,
        "com.adobe.testing.s3mock.S3MockApplication",
        "--com.adobe.testing.s3mock.http-port=" + port,
        "--server.port=" + httpsPort,
        "--server.address=127.0.0.1",
        "--com.adobe.testing.s3mock.domain.initial-buckets=" + bucket,
        "--com.adobe.testing.s3mock.domain.root=" + dir.resolve("objects"),
        "--logging.level.root=WARN"));
    long started = System.nanoTime();
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    S3MockServer server = new S3MockServer(p, port, log);
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!server.answers()) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new AssertionError("S3Mock did not answer on 127.0.0.1:" + port + ":\n"
            + Files.readString(log));
      }
      Thread.sleep(200);
    }
    System.out.printf("S3Mock on 127.0.0.1:%d (pid %d) in %.1f s%n", port, p.pid(),
        (System.nanoTime() - started) / 1e9);
    return server;
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /**
   * The command-line options that reach this server through Beam's AWS options: its endpoint,
   * any region, static test credentials and path-style requests.
   */
  List<String> options() {
    return List.of("--endpoint=" + endpoint(), "--awsRegion=us-east-1",
        "--awsCredentialsProvider={\"@type\":\"StaticCredentialsProvider\","
            + "\"accessKeyId\":\"featurebeam\",\"secretAccessKey\":\"featurebeam\"}",
        "--s3ClientFactoryClass=dev.featurebeam.io.sink.S3PathStyle");
  }

  void stop() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private boolean answers() {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/").toURL()
          .openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(2000);
      try {
        return c.getResponseCode() == 200;
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  /** S3Mock's class path, resolved once by Maven into target/ and reused while its jars exist. */
  private static String classPath() throws Exception {
    Path pom = Cli.runnerConfig("s3mock/pom.xml");
    Path cached = Path.of("target", "s3mock-classpath.txt").toAbsolutePath();
    if (Files.isRegularFile(cached)
        && Files.getLastModifiedTime(cached).compareTo(Files.getLastModifiedTime(pom)) > 0) {
      String cp = Files.readString(cached).strip();
      if (!cp.isEmpty() && java.util.Arrays.stream(cp.split(java.io.File.pathSeparator))
          .allMatch(j -> Files.isRegularFile(Path.of(j)))) {
        return cp;
      }
    }
    Files.createDirectories(cached.getParent());
    List<String> command = new ArrayList<>(List.of("mvn", "-B", "-q", "-Dstyle.color=never",
        "-f", pom.toString(), "dependency:build-classpath", "-Dmdep.includeScope=runtime",
        "-Dmdep.outputFile=" + cached));
    String repo = System.getProperty("featurebeam.mavenRepoLocal");
    if (repo != null && !repo.isEmpty()) {
      command.add("-Dmaven.repo.local=" + repo);
    }
    Path log = cached.resolveSibling("s3mock-maven.log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    if (!p.waitFor(RESOLVE_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError("Maven could not resolve S3Mock's class path ("
          + String.join(" ", command) + "):\n" + Files.readString(log));
    }
    return Files.readString(cached).strip();
  }
}
