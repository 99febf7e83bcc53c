package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;

import dev.featurebeam.io.online.RedisStateStore;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.transforms.features.EntityState;
import dev.featurebeam.transforms.features.StateParts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * {@code batch --onlineStore} against the real Redis (database 14, emptied first): each entity's
 * state as of the run's end answers exactly as the training set at that instant and later, an
 * earlier range does not replace it, and a store that does not answer stops the run before any
 * work.
 */
class BatchOnlineStoreTest {
  private static final String STORE = "redis://127.0.0.1:6379/14";

  @TempDir Path dir;

  @BeforeEach
  void emptyTheDatabase() throws IOException {
    try (Jedis j = new Jedis("127.0.0.1", 6379)) {
      j.select(14);
      j.flushDB();
    }
    Files.writeString(dir.resolve("spec.yaml"), TrainingSetCommandTest.SPEC);
    Files.writeString(dir.resolve("events.csv"), TrainingSetCommandTest.EVENTS);
  }

  @Test
  void theStatesAnswerAsTheTrainingSetAtTheRunsEndAndLater() throws Exception {
    assertThat(batch("--asOfDate=2025-01-10", "--onlineStore=" + STORE).exit(), equalTo(0));
    FeatureSpec spec = SpecParser.parse(TrainingSetCommandTest.SPEC);
    // end_of_day: 2025-01-10's as-of instant is 2025-01-11T00:00Z; events on the 10th count.
    long end = Instant.parse("2025-01-11T00:00:00Z").toEpochMilli();
    List<Long> instants = List.of(end, end + 1, end + 3_600_000L, end + 3 * 86_400_000L);
    List<String> spine = new ArrayList<>();
    for (long t : instants) {
      for (String user : List.of("u1", "u2", "u3")) {
        spine.add(user + "," + Instant.ofEpochMilli(t) + ",0");
      }
    }
    Path spineFile = dir.resolve("spine.csv");
    Files.writeString(spineFile, "user_id,timestamp,label\n" + String.join("\n", spine) + "\n");
    Path training = dir.resolve("t.parquet");
    assertThat(CliRun.of("training-set", "--spec=" + dir.resolve("spec.yaml"),
        "--source=file:" + dir.resolve("events.csv"), "--spine=" + spineFile,
        "--out=" + training, "--runner=DirectRunner").exit(), equalTo(0));
    List<String> expected = TrainingSetCommandTest.lines(training);

    List<String> actual = new ArrayList<>();
    StateParts parts = StateParts.of(spec);
    try (RedisStateStore store = RedisStateStore.open(STORE)) {
      for (long t : instants) {
        for (String user : List.of("u1", "u2", "u3")) {
          // Only the days the instant's window edges fall in, as a lookup reads them.
          RedisStateStore.Stored s =
              store.read(RedisStateStore.key("pit", 1, user), parts.daysReadAt(t));
          StringBuilder line = new StringBuilder(user + "," + Instant.ofEpochMilli(t) + ",0");
          List<Object> values;
          if (s == null) { // u3 has no events: no state, the training set's empty row
            assertThat(user, equalTo("u3"));
            values = EntityState.of(spec).featuresAt(t);
          } else {
            assertThat(s.watermark(), equalTo(end));
            EntityState state = parts.assemble(s.tiles(), s.events());
            values = state.featuresAt(t);
          }
          for (Object v : values) {
            line.append(',').append(v == null ? "" : v.toString());
          }
          actual.add(line.toString());
        }
      }
    }
    assertThat(actual, hasSize(expected.size()));
    assertThat(new java.util.TreeSet<>(actual), equalTo(new java.util.TreeSet<>(expected)));
    try (Jedis j = new Jedis("127.0.0.1", 6379)) {
      j.select(14);
      // A whole-history feature (last_type, days_since_last): the key never expires.
      assertThat(j.pttl("fb:pit:v1:u1"), equalTo(-1L));
    }

    // An earlier range's states include less: they leave the stored ones as they are.
    byte[] before = stored("u1");
    CliRun earlier = batch("--asOfDate=2025-01-09", "--onlineStore=" + STORE);
    assertThat(earlier.err(), earlier.exit(), equalTo(0));
    assertThat(stored("u1"), equalTo(before));
  }

  @Test
  void aStoreThatDoesNotAnswerStopsTheRunBeforeAnyWork() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    CliRun r = batch("--asOfDate=2025-01-10",
        "--onlineStore=redis://app:s3cret@127.0.0.1:" + closed + "/0");
    assertThat(r.exit(), equalTo(2));
    assertThat(r.err(), containsString("--onlineStore"));
    assertThat(r.err(), containsString("127.0.0.1:" + closed));
    assertThat(r.err(), not(containsString("s3cret")));
    assertThat(Files.exists(dir.resolve("out")), equalTo(false));
  }

  private byte[] stored(String user) {
    try (RedisStateStore store = RedisStateStore.open(STORE)) {
      return store.read(RedisStateStore.key("pit", 1, user), new long[0]).tiles();
    }
  }

  private CliRun batch(String... args) {
    List<String> all = new ArrayList<>(List.of("batch", "--spec=" + dir.resolve("spec.yaml"),
        "--source=file:" + dir.resolve("events.csv"), "--out=" + dir.resolve("out"),
        "--runner=DirectRunner", "--progress=false"));
    all.addAll(List.of(args));
    return CliRun.of(all.toArray(new String[0]));
  }

}
