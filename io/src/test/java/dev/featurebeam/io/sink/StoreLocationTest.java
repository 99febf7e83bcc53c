package dev.featurebeam.io.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which roots are remote, how their locations compose, and what a reader needs of a partition. */
class StoreLocationTest {
  @TempDir Path tmp;

  @Test
  void plainPathsAndFileUrisStayLocalEveryOtherSchemeIsRemote() {
    assertThat(StoreLocation.isRemote("out"), is(false));
    assertThat(StoreLocation.isRemote("/data/features"), is(false));
    assertThat(StoreLocation.isRemote("file:///data/features"), is(false));
    assertThat(StoreLocation.isRemote("hdfs://nn:8020/features"), is(true));
    assertThat(StoreLocation.isRemote("s3://bucket/prefix"), is(true));
    assertThat(StoreLocation.isRemote("S3://bucket"), is(true));
    assertThat(StoreLocation.localPath("file:///data/features"), equalTo(Path.of("/data/features")));
    assertThat(StoreLocation.localPath("out/x"), equalTo(Path.of("out/x")));
  }

  @Test
  void remoteLocationsJoinWithOneSlash() {
    assertThat(StoreLocation.join("s3://b/p/", "user_features", "v1"),
        equalTo("s3://b/p/user_features/v1"));
    assertThat(StoreLocation.join("s3://b", "x"), equalTo("s3://b/x"));
    assertThat(StoreLocation.name("hdfs://nn:8020/a/b/"), equalTo("b"));
    assertThat(StoreLocation.strip("s3://"), equalTo("s3://"));
  }

  @Test
  void aLockOfThisHostIsStaleOnlyOnceItsProcessIsGone() throws Exception {
    String host = InetAddress.getLocalHost().getHostName();
    String alive = "{\"host\":\"" + host + "\",\"pid\":" + ProcessHandle.current().pid()
        + ",\"started\":\"" + Instant.now() + "\",\"run\":\"batch\"}";
    assertThat(StoreLock.leftByDeadProcessHere(alive), is(false));
    // A pid that ran before the lock was taken is this process only if it started earlier.
    String reused = "{\"host\":\"" + host + "\",\"pid\":" + ProcessHandle.current().pid()
        + ",\"started\":\"2000-01-01T00:00:00Z\",\"run\":\"batch\"}";
    assertThat(StoreLock.leftByDeadProcessHere(reused), is(true));
    String elsewhere = "{\"host\":\"another-host-of-the-cluster\",\"pid\":1,"
        + "\"started\":\"2000-01-01T00:00:00Z\",\"run\":\"batch\"}";
    assertThat(StoreLock.leftByDeadProcessHere(elsewhere), is(false));
    assertThat(StoreLock.leftByDeadProcessHere("not json"), is(false));
  }

  @Test
  void aReaderTrustsAPartitionOnlyThroughItsManifest() throws Exception {
    Path partition = Files.createDirectories(tmp.resolve("as_of_date=2025-01-05"));
    Files.write(partition.resolve("part-00000-of-00001.parquet"), new byte[] {1, 2, 3});
    IllegalArgumentException none =
        assertThrows(IllegalArgumentException.class, () -> PartitionReader.files(partition));
    assertThat(none.getMessage(), containsString("not a published partition"));

    String good = OfflineStore.sha256(new byte[] {1, 2, 3});
    Files.writeString(partition.resolve(OfflineStore.MANIFEST), "{\"files\":[{\"name\":"
        + "\"part-00000-of-00001.parquet\",\"rows\":0,\"sha256\":\"" + good + "\"}]}");
    // A part file the manifest does not list is never read.
    Files.write(partition.resolve("part-00000-of-00002.parquet"), new byte[] {9});
    assertThat(PartitionReader.files(partition),
        equalTo(java.util.List.of(partition.resolve("part-00000-of-00001.parquet"))));

    Files.write(partition.resolve("part-00000-of-00001.parquet"), new byte[] {1, 2, 4});
    IllegalStateException changed =
        assertThrows(IllegalStateException.class, () -> PartitionReader.files(partition));
    assertThat(changed.getMessage(), containsString("does not match the sha256"));
  }
}
