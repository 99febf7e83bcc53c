package dev.featurebeam.it;

import dev.featurebeam.io.sink.StoreLocation;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RemoteStoreTest} on S3: Adobe's S3Mock in a child JVM on loopback ({@link
 * S3MockServer}); the runs reach it by {@code s3://featurebeam/…} and Beam's AWS options.
 */
class S3StoreTest extends RemoteStoreTest {
  private static final String BUCKET = "featurebeam";
  @TempDir static Path serverDir;
  private static S3MockServer server;

  @BeforeAll
  static void startServer() throws Exception {
    server = S3MockServer.start(serverDir, BUCKET);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.stop();
    }
  }

  @Override
  String root(String name) {
    return "s3://" + BUCKET + "/stores/" + name;
  }

  @Override
  List<String> storeOptions() {
    return server.options();
  }

  @Override
  boolean killedRunLeavesLock() {
    return false; // S3 has only this machine's lock, which the system frees
  }

  @Override
  SortedMap<String, String> remoteFiles(String dir) throws Exception {
    StoreLocation.configure(PipelineOptionsFactory.fromArgs(
        server.options().toArray(new String[0])).create());
    SortedMap<String, String> out = new TreeMap<>();
    String prefix = dir + "/";
    for (MatchResult.Metadata m :
        FileSystems.match(prefix + "**", EmptyMatchTreatment.ALLOW).metadata()) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (InputStream in = new DigestInputStream(
          Channels.newInputStream(FileSystems.open(m.resourceId())), digest)) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      out.put(m.resourceId().toString().substring(prefix.length()),
          HexFormat.of().formatHex(digest.digest()));
    }
    return out;
  }
}
