package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RemoteStoreTest} on HDFS: a MiniDFSCluster (a namenode and one datanode) in this JVM on
 * loopback; the runs reach it by {@code hdfs://localhost:PORT/…} and {@code --hdfsConfiguration}.
 */
class HdfsStoreTest extends RemoteStoreTest {
  @TempDir static Path clusterDir;
  private static MiniDFSCluster cluster;
  private static String namenode;

  @BeforeAll
  static void startCluster() throws Exception {
    long started = System.nanoTime();
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, clusterDir.toString());
    conf.set("dfs.replication", "1");
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    namenode = "hdfs://localhost:" + cluster.getNameNodePort();
    System.out.printf("MiniDFSCluster on %s in %.1f s%n", namenode,
        (System.nanoTime() - started) / 1e9);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.shutdown();
    }
  }

  @Override
  String root(String name) {
    return namenode + "/stores/" + name;
  }

  @Override
  List<String> storeOptions() {
    return List.of("--hdfsConfiguration=[{\"fs.defaultFS\":\"" + namenode + "\","
        + "\"dfs.replication\":\"1\"}]");
  }

  @Override
  boolean killedRunLeavesLock() {
    return true;
  }

  /**
   * HDFS's own lock keeps out a run of any machine: one held from another host makes a run with
   * --noWait stop at once (exit 2), naming the owner and the file to delete if that run is gone.
   */
  @Test
  void aLockHeldFromAnotherHostKeepsARunOutAndNamesTheFileToDelete() throws Exception {
    String root = root("locked");
    String lock = version(root) + "/_LOCK";
    try (OutputStream out = cluster.getFileSystem().create(new org.apache.hadoop.fs.Path(lock))) {
      out.write(("{\"host\":\"etl-elsewhere\",\"pid\":4242,\"started\":\"2026-01-01T00:00:00Z\","
          + "\"run\":\"batch 2025-01-01..2025-01-31\"}\n").getBytes(StandardCharsets.UTF_8));
    }
    Cli.Result refused = batch(root, inputA(), "--asOfDate=" + CRASH_DATE, "--noWait")
        .assertExit(2);
    assertThat(refused.err(), containsString("pid 4242 on host etl-elsewhere"));
    assertThat(refused.err(), containsString("if that run is gone, delete " + lock));
    assertThat(remoteFiles(version(root)).keySet(), contains("_LOCK"));
  }

  @Override
  SortedMap<String, String> remoteFiles(String dir) throws Exception {
    FileSystem fs = cluster.getFileSystem();
    org.apache.hadoop.fs.Path base = new org.apache.hadoop.fs.Path(dir);
    SortedMap<String, String> out = new TreeMap<>();
    if (!fs.exists(base)) {
      return out;
    }
    String prefix = fs.getFileStatus(base).getPath().toUri().getPath() + "/";
    RemoteIterator<LocatedFileStatus> files = fs.listFiles(base, true);
    while (files.hasNext()) {
      LocatedFileStatus f = files.next();
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (InputStream in = new DigestInputStream(fs.open(f.getPath()), digest)) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      out.put(f.getPath().toUri().getPath().substring(prefix.length()),
          HexFormat.of().formatHex(digest.digest()));
    }
    return out;
  }
}
