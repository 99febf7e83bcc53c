package dev.featurebeam.it;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code batch --source=http://…} against {@link EventsApi} serving a generated JSON-lines file:
 * through a 429 with Retry-After, a 500 and an answer slower than the timeout, every record
 * arrives once and the partitions are the file run's byte for byte; a rerun with the server gone
 * reads the landed copy and gives them again; a server that stays down fails the run with one
 * clear line and publishes nothing; a run killed in the middle of its pull is resumed by the next
 * one, which asks only for the pages not landed yet; a token from the environment reaches the API
 * on every request and no file, report or message of the run holds it.
 */
class HttpSourceTest {
  private static final String FS = "user_features";
  private static final String FROM = "2025-01-20";
  private static final String TO = "2025-01-24";
  private static final int PAGE = 250;

  @TempDir static Path tmp;
  private static Path jsonl;

  @BeforeAll
  static void generate() throws Exception {
    jsonl = Cli.generate(tmp.resolve("events.jsonl"), Map.of("seed", "12", "events", "3000",
        "users", "200", "days", "30", "startDate", "2025-01-01", "duplicateFraction", "0.03",
        "malformedFraction", "0.01"));
  }

  private static SortedMap<String, String> expected;

  /** The partitions of the same events read from the .jsonl file. */
  private static synchronized SortedMap<String, String> fileRun() throws Exception {
    if (expected == null) {
      Path fileOut = tmp.resolve("out-file");
      Cli.batch(Cli.DIRECT, Cli.fixture("user_features.yaml"), jsonl, fileOut, "--from=" + FROM,
          "--to=" + TO).assertExit(0);
      expected = parquet(fileOut);
      assertThat(expected.size(), is(5));
    }
    return expected;
  }

  private static SortedMap<String, String> parquet(Path out) throws Exception {
    return Cli.only(Cli.snapshot(Cli.versionDir(out, FS, 1)), Cli::isParquetPart);
  }

  private static String[] apiArgs(String url, Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("batch", "--spec=" + Cli.fixture("user_features.yaml"),
        "--source=" + url, "--out=" + out, "--runnerConfig=" + Cli.runnerConfig(Cli.DIRECT),
        "--progress=false", "--from=" + FROM, "--to=" + TO, "--cursorField=next",
        "--cursorParam=after"));
    args.addAll(List.of(extra));
    return args.toArray(new String[0]);
  }

  private static Cli.Result apiBatch(String url, Path out, String... extra) {
    return Cli.run(apiArgs(url, out, extra));
  }

  @Test
  void anApiGivesTheFilesPartitionsAndARerunWithoutItTheSameAgain() throws Exception {
    SortedMap<String, String> expected = fileRun();
    Path out = tmp.resolve("out-api");
    String url;
    int served;
    int pages;
    try (EventsApi api = new EventsApi(jsonl, PAGE)) {
      url = api.url();
      served = api.records();
      pages = (served + PAGE - 1) / PAGE;
      // Page 2 first gets a 429, then a 500; page 3's first answer comes after the timeout.
      api.fault(1, EventsApi.Fault.TOO_MANY).fault(2, EventsApi.Fault.ERROR)
          .fault(4, EventsApi.Fault.SLOW);
      Cli.Result r = apiBatch(url, out, "--httpTimeout=1s", "--httpBackoff=50ms",
          "--sinceParam=since", "--untilParam=until").assertExit(0);
      assertThat(parquet(out), equalTo(expected));
      // The spec has whole-history features: no lower bound is sent, the end always is.
      assertThat(r.err(), allOf(containsString("--sinceParam=since is not sent"),
          containsString("HTTP 429"), containsString("HTTP 500"),
          containsString("HttpTimeoutException")));
      assertThat(api.queries(), everyItem(allOf(containsString("until=2025-01-25T00%3A00%3A00Z"),
          not(containsString("since=")))));
      assertThat(api.queries().size(), is(pages + 3));
    }
    JsonNode report = Cli.readJson(Cli.runDir(out, FS, 1, FROM, TO).resolve("report.json"));
    JsonNode source = report.path("api_source");
    assertThat(source.path("url").asText(), equalTo(url));
    assertThat(source.path("pages_fetched").asInt(), is(pages));
    assertThat(source.path("timeout_ms").asLong(), is(1000L));
    assertThat(source.path("time_params").path("until").asText(), equalTo("2025-01-25T00:00:00Z"));
    assertThat(source.path("records").asInt(), is(served));
    assertThat(report.path("counts").path("read").asInt(), is(served));
    Path landing = Path.of(source.path("landing").asText());
    assertThat(landing.startsWith(out.resolve("_landing").resolve(FS).resolve("v1")), is(true));
    JsonNode manifest = Cli.readJson(landing.resolve("_LANDING.json"));
    assertThat(manifest.path("complete").asBoolean(), is(true));
    assertThat(manifest.path("pages").size(), is(pages));
    SortedMap<String, String> landed = Cli.snapshot(landing);
    JsonNode lineage = Cli.readJson(Cli.partitionDir(out, FS, 1, TO).resolve("_MANIFEST.json"))
        .path("lineage");
    assertThat(lineage.toString(), allOf(containsString(url), containsString(landing.toString())));

    // The server is gone: the rerun reads the landing, and publishes the same bytes.
    Cli.Result again = apiBatch(url, out, "--untilParam=until").assertExit(0);
    assertThat(again.err(), containsString("reading the landed copy of " + url));
    assertThat(parquet(out), equalTo(expected));
    assertThat(Cli.snapshot(landing), equalTo(landed));
    JsonNode second = Cli.readJson(Cli.runDir(out, FS, 1, FROM, TO).resolve("report.json"));
    assertThat(second.path("api_source").path("pages_fetched").asInt(), is(0));
    assertThat(second.path("counts"), equalTo(report.path("counts")));
    // --refetch asks the API again: it is gone, so the run fails and leaves the store and the
    // landing alone.
    Cli.Result refetch = apiBatch(url, out, "--untilParam=until", "--refetch",
        "--httpMaxAttempts=1").assertExit(2);
    assertThat(refetch.err(), containsString("ConnectException"));
    assertThat(parquet(out), equalTo(expected));
    assertThat(Cli.snapshot(landing), equalTo(landed));
  }

  @Test
  void aServerThatStaysDownFailsTheRunClearlyAndPublishesNothing() throws Exception {
    Path out = tmp.resolve("out-down");
    try (EventsApi api = new EventsApi(jsonl, PAGE)) {
      api.down(true);
      Cli.Result r = apiBatch(api.url(), out, "--httpMaxAttempts=3", "--httpBackoff=20ms")
          .assertExit(2);
      String last = r.errLines().get(r.errLines().size() - 1);
      assertThat(last, allOf(containsString("featurebeam: batch: --source=" + api.url()),
          containsString("no answer after 3 attempts"), containsString("HTTP 503")));
      assertThat(api.queries().size(), is(3));
    }
    assertThat(Cli.partitionFolders(out), is(empty()));
    assertThat(Files.exists(Cli.versionDir(out, FS, 1).resolve("_runs")), is(false));
  }

  @Test
  void aPullKilledMidwayResumesAfterItsLastLandedPage() throws Exception {
    Path out = tmp.resolve("out-killed");
    try (EventsApi api = new EventsApi(jsonl, PAGE)) {
      // The fourth page's answer takes a minute: the run is killed (SIGKILL) while it waits.
      api.fault(3, EventsApi.Fault.HANG);
      Child child = Child.start(tmp.resolve("child"), Map.of(), apiArgs(api.url(), out));
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (api.queries().size() < 4) {
        assertThat(child.errSoFar(), child.isAlive(), is(true));
        assertThat("the child asked for page 4 in time", System.nanoTime() < deadline, is(true));
        Thread.sleep(50);
      }
      // The child holds the store's lock while it pulls: a second run does not land beside it.
      Cli.Result second = apiBatch(api.url(), out, "--noWait").assertExit(2);
      assertThat(second.err(), containsString("another run"));
      assertThat(api.queries().size(), is(4));
      child.kill();
      Path landing;
      try (var landings = Files.list(out.resolve("_landing").resolve(FS).resolve("v1"))) {
        landing = landings.findFirst().orElseThrow();
      }
      JsonNode partial = Cli.readJson(landing.resolve("_LANDING.json"));
      assertThat(partial.path("complete").asBoolean(), is(false));
      assertThat(partial.path("pages").size(), is(3));
      assertThat(partial.path("next").asText(), equalTo("c" + 3 * PAGE));
      assertThat(Cli.partitionFolders(out), is(empty()));

      Cli.Result resumed = apiBatch(api.url(), out).assertExit(0);
      assertThat(resumed.err(), containsString("resuming the pull of " + api.url()
          + " after page 3"));
      int pages = (api.records() + PAGE - 1) / PAGE;
      List<String> asked = api.queries().subList(4, api.queries().size());
      List<String> expectedAsks = new ArrayList<>();
      for (int p = 3; p < pages; p++) {
        expectedAsks.add("after=c" + p * PAGE);
      }
      assertThat(asked, equalTo(expectedAsks));
      JsonNode report = Cli.readJson(Cli.runDir(out, FS, 1, FROM, TO).resolve("report.json"));
      assertThat(report.path("api_source").path("pages_fetched").asInt(), is(pages - 3));
      assertThat(report.path("counts").path("read").asInt(), is(api.records()));
    }
    assertThat(parquet(out), equalTo(fileRun()));
  }

  @Test
  void aTokenFromTheEnvironmentIsSentAndNeverWrittenAnywhere() throws Exception {
    String token = "Bearer tok-" + Long.toHexString(System.nanoTime()) + "-s3cr3t";
    Path out = tmp.resolve("out-token");
    try (EventsApi api = new EventsApi(jsonl, PAGE)) {
      api.requireToken(token);
      int pages = (api.records() + PAGE - 1) / PAGE;
      Cli.Result ok = Child.start(tmp.resolve("child"), Map.of(), Map.of("FB_API_TOKEN", token),
          apiArgs(api.url(), out, "--httpHeaderEnv=Authorization=FB_API_TOKEN")).await(300)
          .assertExit(0);
      assertThat(api.authorizations(), equalTo(java.util.Collections.nCopies(pages, token)));
      // A wrong token: the API's refusal echoes it, the run's message does not.
      String wrong = "Bearer wrong-" + Long.toHexString(System.nanoTime());
      Cli.Result refused = Child.start(tmp.resolve("child"), Map.of(),
          Map.of("FB_API_TOKEN", wrong), apiArgs(api.url(), out, "--refetch",
              "--httpHeaderEnv=Authorization=FB_API_TOKEN")).await(120).assertExit(2);
      assertThat(refused.err(), allOf(containsString("HTTP 401"),
          containsString("invalid credentials: ***"), not(containsString("wrong-"))));
      for (Cli.Result r : List.of(ok, refused)) {
        assertThat(r.out() + r.err(), not(containsString("s3cr3t")));
      }
    }
    // Not in the report, the lineage, the landing, the quarantine, a log: in no file at all.
    try (var files = Files.walk(out)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(f.toString(), text, allOf(not(containsString("s3cr3t")),
            not(containsString("wrong-"))));
      }
    }
    JsonNode report = Cli.readJson(Cli.runDir(out, FS, 1, FROM, TO).resolve("report.json"));
    assertThat(report.path("api_source").path("headers").toString(), equalTo("[\"Authorization\"]"));
  }
}
