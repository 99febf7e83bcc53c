package dev.featurebeam.it;

import java.io.InputStream;
import java.io.OutputStream;
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
