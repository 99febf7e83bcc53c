package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code featurebeam get} on the machine's Redis (database 13, emptied first) loaded by {@code
 * batch --onlineStore}: the values worked out by hand, the state's freshness, and a clear exit 2
 * for an instant before the state, a malformed instant, an option it does not take and a Redis that
 * does not answer (whose password it never prints).
 */
class GetCommandTest {
  private static final String STORE = "redis://127.0.0.1:6379/13";
  @TempDir static Path dir;
  private static Path spec;

  @BeforeAll
  static void load() throws Exception {
    OnlineFixture.empty(13);
    spec = OnlineFixture.load(dir, STORE);
  }

  @Test
  void printsTheValuesAtTheInstantAndHowFreshTheStateIs() {
    CliRun r = get("--entity=u1", "--at=2025-01-11T01:10:00+01:00");
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(r.out(), equalTo(String.join("\n",
        "pit v1  user_id=u1  at 2025-01-11T00:10:00Z",
        "  n_1h       = 1",
        "  amt_sum_2d = 10.0",
        "  last_type  = view",
        "  dsl        = 0",
        "  active_30m = true",
        "  last_seen  = 2025-01-10T23:40:00Z",
        "state: 3 events, latest event 2025-01-10T23:40:00Z, written at watermark"
            + " 2025-01-11T00:00:00Z; freshness 10m",
        "")));
    CliRun later = get("--entity=u1", "--at=2025-01-12");
    assertThat(later.out(), containsString("  n_1h       = 0\n"));
    assertThat(later.out(), containsString("  dsl        = 1\n"));
    assertThat(later.out(), containsString("  active_30m = false\n"));
    assertThat(later.out(), containsString("freshness 24h\n"));
  }

  @Test
  void anEntityTheStoreDoesNotHoldGetsCountsZeroAndNulls() {
    CliRun r = get("--entity=nobody", "--at=2025-01-11T00:10:00Z");
    assertThat(r.err(), r.exit(), equalTo(0));
    assertThat(r.out(), containsString("  n_1h       = 0\n"));
    assertThat(r.out(), containsString("  amt_sum_2d = null\n"));
    assertThat(r.out(), containsString("  active_30m = false\n"));
    assertThat(r.out(), containsString("state: none stored"));
  }

  @Test
  void anInstantBeforeTheStatePointsToTrainingSet() {
    CliRun r = get("--entity=u1", "--at=2025-01-10T23:39:59.999Z");
    assertThat(r.exit(), equalTo(2));
    assertThat(r.err(), containsString("before the latest event the online state of u1 holds"
        + " (2025-01-10T23:40:00Z)"));
    assertThat(r.err(), containsString("training-set"));
    // at the latest event itself the state answers (windows end before the instant)
    assertThat(get("--entity=u1", "--at=2025-01-10T23:40:00Z").exit(), equalTo(0));
  }

  @Test
  void badInputIsAnErrorThatSaysWhat() {
    CliRun malformed = get("--entity=u1", "--at=2025-13-01");
    assertThat(malformed.exit(), equalTo(2));
    assertThat(malformed.err(), containsString("'2025-13-01' is not an instant"));
    CliRun runner = get("--entity=u1", "--runner=DirectRunner");
    assertThat(runner.exit(), equalTo(2));
    assertThat(runner.err(), containsString("--runner"));
    CliRun blank = get("--entity=");
    assertThat(blank.exit(), equalTo(2));
    assertThat(blank.err(), containsString("--entity"));
  }

  @Test
  void aRedisThatDoesNotAnswerIsExitTwoWithoutItsPassword() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    CliRun r = CliRun.of("get", "--spec=" + spec, "--onlineStore=redis://app:s3cret@127.0.0.1:" + closed
        + "/0", "--entity=u1");
    assertThat(r.exit(), equalTo(2));
    assertThat(r.err(), containsString("127.0.0.1:" + closed));
    assertThat(r.err(), containsString("does not answer"));
    assertThat(r.err(), not(containsString("s3cret")));
  }

  private static CliRun get(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "get";
    all[1] = "--spec=" + spec;
    all[2] = "--onlineStore=" + STORE;
    System.arraycopy(args, 0, all, 3, args.length);
    return CliRun.of(all);
  }

}
