package dev.featurebeam.io.source.http;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An API pull against {@link ApiTestServer}: every paging style lands every record once and in
 * order; 429 (its Retry-After waited for), 500 and an answer slower than the timeout are retried;
 * a server that stays down fails the pull after the allowed attempts; an interrupted pull resumes
 * with the pages it lacks; a complete landing is read without the server.
 */
class ApiPullTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** 23 records in pages of 5: five pages, the last one short. */
  private static final List<String> RECORDS = IntStream.range(0, 23)
      .mapToObj(i -> "{\"event_id\":\"e" + i + "\",\"user_id\":\"u" + (i % 4) + "\",\"amount\":"
          + (i == 7 ? "12.50" : i == 8 ? "12345678901234567890123" : Integer.toString(i))
          + ",\"ts\":\"2025-01-0" + (1 + i % 9) + "T10:00:00Z\"}")
      .collect(Collectors.toList());

  @TempDir Path tmp;

  private static ApiClient fastClient() {
    return ApiClient.create().withTimeout(Duration.ofMillis(500)).withMaxAttempts(4)
        .withBackoff(Duration.ofMillis(20), Duration.ofMillis(100));
  }

  private static ApiRequest request(ApiTestServer server, ApiTestServer.Style style) {
    ApiRequest r = ApiRequest.of(server.url(), "data");
    switch (style) {
      case CURSOR:
        return r.withCursor("meta.next_cursor", "cursor");
      case NEXT_FIELD:
        return r.withNextField("links.next");
      case PAGE_NUMBER:
        return r.withPageNumbers("page", 1);
      default:
        return r;
    }
  }

  /** Every landed record, in page order. */
  private static List<String> landed(Landing landing) throws IOException {
    List<String> out = new ArrayList<>();
    for (Landing.Page p : landing.pages()) {
      out.addAll(Files.readAllLines(landing.dir().resolve(p.file()), StandardCharsets.UTF_8));
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(ApiTestServer.Style.class)
  void everyPagingStyleLandsEveryRecordOnceInOrder(ApiTestServer.Style style) throws Exception {
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 5, style)) {
      ApiPull.Result r = ApiPull.of(request(server, style), fastClient()).into(tmp.resolve("l"),
          false);
      assertThat(landed(r.landing()), equalTo(RECORDS));
      // Numbered pages end on the first empty one; the other styles on a page without a next.
      int pages = style == ApiTestServer.Style.PAGE_NUMBER ? 6 : 5;
      assertThat(r.pagesFetched(), is(pages));
      assertThat(server.seen().size(), is(pages));
      List<String> expected = switch (style) {
        case CURSOR -> List.of("", "cursor=c5", "cursor=c10", "cursor=c15", "cursor=c20");
        case PAGE_NUMBER -> List.of("page=1", "page=2", "page=3", "page=4", "page=5", "page=6");
        default -> List.of("", "offset=5", "offset=10", "offset=15", "offset=20");
      };
      assertThat(server.queries(), equalTo(expected));
      JsonNode manifest = JSON.readTree(r.landing().dir().resolve(Landing.MANIFEST).toFile());
      assertThat(manifest.get("complete").asBoolean(), is(true));
      assertThat(manifest.get("records").asLong(), is(23L));
      assertThat(manifest.get("pages").size(), is(pages));
      assertThat(manifest.get("pages").get(1).get("records").asLong(), is(5L));
    }
  }

  @Test
  void numbersAndFieldOrderLandAsTheApiWroteThem() throws Exception {
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 5, ApiTestServer.Style.CURSOR)) {
      List<String> lines = landed(ApiPull.of(request(server, ApiTestServer.Style.CURSOR),
          fastClient()).into(tmp.resolve("l"), false).landing());
      assertThat(lines.get(7), containsString("\"amount\":12.50,"));
      assertThat(lines.get(8), containsString("\"amount\":12345678901234567890123,"));
      assertThat(lines.get(0), equalTo(RECORDS.get(0)));
    }
  }

  @Test
  void retriesTooManyRequestsAfterRetryAfterAndErrorsAndSlowAnswers() throws Exception {
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 5, ApiTestServer.Style.CURSOR)) {
      // Request 1 is page 2's first try: 429, then 500; page 3's first try is too slow.
      server.fault(1, ApiTestServer.Fault.TOO_MANY).fault(2, ApiTestServer.Fault.ERROR)
          .fault(4, ApiTestServer.Fault.SLOW);
      List<String> notices = new ArrayList<>();
      ApiPull.Result r = ApiPull.of(request(server, ApiTestServer.Style.CURSOR),
          fastClient().withNotices(notices::add)).into(tmp.resolve("l"), false);
      assertThat(landed(r.landing()), equalTo(RECORDS));
      // The slow answer comes last: the client gave up on it and asked again meanwhile.
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (server.seen().size() < 8 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      List<ApiTestServer.Seen> seen = server.seen();
      List<Integer> statuses = seen.stream().map(ApiTestServer.Seen::status).toList();
      assertThat(statuses, equalTo(List.of(200, 429, 500, 200, 200, 200, 200, 200)));
      long waitedMs = (seen.get(2).atNanos() - seen.get(1).atNanos()) / 1_000_000;
      assertThat("waited after the 429", waitedMs,
          greaterThanOrEqualTo(ApiTestServer.RETRY_AFTER_SECONDS * 1000L));
      assertThat(waitedMs, lessThan(ApiTestServer.RETRY_AFTER_SECONDS * 1000L + 800));
      assertThat(r.landing().pages().get(1).attempts(), is(3));
      assertThat(r.landing().pages().get(2).attempts(), is(2));
      assertThat(notices.size(), is(3));
      assertThat(notices.get(0), allOf(containsString("HTTP 429"), containsString("attempt 2 of 4")));
      assertThat(notices.get(2), containsString("HttpTimeoutException"));
    }
  }

  @Test
  void aServerThatStaysDownFailsAfterTheAttemptsAllowed() throws Exception {
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 5, ApiTestServer.Style.PAGE_NUMBER)) {
      server.downFrom(0);
      ApiClient.ApiException e = assertThrows(ApiClient.ApiException.class, () -> ApiPull.of(
          request(server, ApiTestServer.Style.PAGE_NUMBER), fastClient())
          .into(tmp.resolve("l"), false));
      assertThat(e.getMessage(), allOf(containsString(server.url() + "?page=1"),
          containsString("no answer after 4 attempts"), containsString("HTTP 503")));
      assertThat(server.seen().size(), is(4));
      Landing landing = Landing.open(tmp.resolve("l"),
          request(server, ApiTestServer.Style.PAGE_NUMBER));
      assertThat(landing.isEmpty(), is(true));
      assertThat(landing.complete(), is(false));
    }
    // Nothing listens any more: connection errors are retried and fail the same way.
    ApiRequest gone = ApiRequest.of("http://127.0.0.1:1/events", "data");
    ApiClient.ApiException refused = assertThrows(ApiClient.ApiException.class,
        () -> ApiPull.of(gone, fastClient().withMaxAttempts(2)).into(tmp.resolve("g"), false));
    assertThat(refused.getMessage(), allOf(containsString("no answer after 2 attempts"),
        containsString("ConnectException")));
  }

  @ParameterizedTest
  @EnumSource(ApiTestServer.Style.class)
  void anInterruptedPullResumesWithThePagesItLacks(ApiTestServer.Style style) throws Exception {
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 5, style)) {
      ApiRequest request = request(server, style);
      server.downFrom(10); // pages 1 and 2 land, page 3 fails
      assertThrows(ApiClient.ApiException.class,
          () -> ApiPull.of(request, fastClient()).into(tmp.resolve("l"), false));
      Landing partial = Landing.open(tmp.resolve("l"), request);
      assertThat(partial.pages().size(), is(2));
      assertThat(partial.complete(), is(false));
      int before = server.seen().size();
      server.downFrom(Integer.MAX_VALUE);
      List<String> notices = new ArrayList<>();
      ApiPull.Result r = ApiPull.of(request, fastClient()).withNotices(notices::add)
          .into(tmp.resolve("l"), false);
      assertThat(landed(r.landing()), equalTo(RECORDS));
      List<String> again = server.queries().subList(before, server.seen().size());
      List<String> expected = switch (style) {
        case CURSOR -> List.of("cursor=c10", "cursor=c15", "cursor=c20");
        case PAGE_NUMBER -> List.of("page=3", "page=4", "page=5", "page=6");
        default -> List.of("offset=10", "offset=15", "offset=20");
      };
      assertThat(again, equalTo(expected));
      assertThat(notices.get(0), containsString("resuming the pull"));
    }
  }

  @Test
  void aCompleteLandingIsReadWithoutTheApiAndReplacedOnlyByACompleteRefetch() throws Exception {
    Path dir = tmp.resolve("l");
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 5, ApiTestServer.Style.NEXT_FIELD)) {
      ApiRequest request = request(server, ApiTestServer.Style.NEXT_FIELD);
      ApiPull.of(request, fastClient()).into(dir, false);
      byte[] manifest = Files.readAllBytes(dir.resolve(Landing.MANIFEST));
      int asked = server.seen().size();
      server.downFrom(0); // every page answers 503 from now on

      ApiPull.Result again = ApiPull.of(request, fastClient()).into(dir, false);
      assertThat(again.pagesFetched(), is(0));
      assertThat(server.seen().size(), is(asked));
      assertThat(landed(again.landing()), equalTo(RECORDS));
      assertThat(Files.readAllBytes(dir.resolve(Landing.MANIFEST)), equalTo(manifest));

      // A refetch that fails leaves the landing as it was.
      assertThrows(ApiClient.ApiException.class,
          () -> ApiPull.of(request, fastClient().withMaxAttempts(1)).into(dir, true));
      assertThat(Files.readAllBytes(dir.resolve(Landing.MANIFEST)), equalTo(manifest));
      assertThat(landed(ApiPull.of(request, fastClient()).into(dir, false).landing()),
          equalTo(RECORDS));

      // A landed page changed by hand is found out, not read; a refetch replaces the landing.
      server.downFrom(Integer.MAX_VALUE);
      Files.writeString(dir.resolve("page-00002.jsonl"), "{}\n");
      IllegalStateException changed = assertThrows(IllegalStateException.class,
          () -> ApiPull.of(request, fastClient()).into(dir, false));
      assertThat(changed.getMessage(), containsString("page-00002.jsonl is not what was fetched"));
      ApiPull.Result refetched = ApiPull.of(request, fastClient()).into(dir, true);
      assertThat(refetched.pagesFetched(), is(5));
      assertThat(landed(refetched.landing()), equalTo(RECORDS));
      assertThat(refetched.landing().dir(), equalTo(dir));
      try (var siblings = Files.list(tmp)) {
        assertThat(siblings.map(p -> p.getFileName().toString()).toList(), equalTo(List.of("l")));
      }
    }
  }

  @Test
  void headersAreSentAndTheirValuesNeverShown() throws Exception {
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 5, ApiTestServer.Style.LINK_HEADER)) {
      ApiClient client = fastClient().withHeader("Authorization", "Bearer tok-SECRET-123");
      ApiRequest request = request(server, ApiTestServer.Style.LINK_HEADER);
      ApiPull.of(request, client).into(tmp.resolve("ok"), false);
      assertThat(server.seen().stream().map(ApiTestServer.Seen::authorization).toList(),
          everyItem(equalTo("Bearer tok-SECRET-123")));
      // A server that echoes the token in its refusal: the message does not repeat it.
      server.refuse(true);
      ApiClient.ApiException e = assertThrows(ApiClient.ApiException.class,
          () -> ApiPull.of(request, client).into(tmp.resolve("refused"), true));
      assertThat(e.getMessage(), allOf(containsString("HTTP 401"), containsString("bad token"),
          not(containsString("SECRET"))));
      // 401 is not retried.
      assertThat(server.seen().stream().filter(s -> s.status() == 401).count(), is(1L));
    }
  }

  @Test
  void timeParametersGoIntoTheUrlAndTheLandingKey() throws Exception {
    try (ApiTestServer server = ApiTestServer.start(RECORDS, 50, ApiTestServer.Style.CURSOR)) {
      ApiRequest plain = request(server, ApiTestServer.Style.CURSOR);
      ApiRequest since = plain.withTimeParam("since", 1_735_689_600_000L,
          ApiRequest.TimeFormat.ISO).withTimeParam("until", 1_736_035_200_000L,
          ApiRequest.TimeFormat.EPOCH_SECONDS);
      ApiPull.of(since, fastClient()).into(tmp.resolve(since.key()), false);
      assertThat(server.queries(),
          equalTo(List.of("since=2025-01-01T00%3A00%3A00Z&until=1736035200")));
      assertThat(since.key(), not(equalTo(plain.key())));
      assertThat(since.key(), equalTo(request(server, ApiTestServer.Style.CURSOR)
          .withTimeParam("since", 1_735_689_600_000L, ApiRequest.TimeFormat.ISO)
          .withTimeParam("until", 1_736_035_200_000L, ApiRequest.TimeFormat.EPOCH_SECONDS).key()));
    }
  }

  @Test
  void badPagesAndBadRequestsAreRefusedClearly() throws Exception {
    ApiRequest r = ApiRequest.of("http://127.0.0.1/x", "data");
    java.net.URI page = r.firstUri();
    java.net.http.HttpHeaders none = java.net.http.HttpHeaders.of(java.util.Map.of(), (a, b) -> true);
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiPage.read(r, page, 1, none,
        "<html>".getBytes(StandardCharsets.UTF_8))).getMessage(), containsString("not JSON"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiPage.read(r, page, 1, none,
        "{\"items\":[]}".getBytes(StandardCharsets.UTF_8))).getMessage(),
        containsString("no array 'data'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiPage.read(r, page, 1, none,
        "{\"data\":[{\"a\":1,\"a\":2}]}".getBytes(StandardCharsets.UTF_8))).getMessage(),
        containsString("Duplicate field 'a'"));
    // A record that is not an object lands as it is, to be quarantined when read.
    assertThat(ApiPage.read(r, page, 1, none, "{\"data\":[\"x\", null]}"
        .getBytes(StandardCharsets.UTF_8)).records(), equalTo(List.of("\"x\"", "null")));
    ApiRequest next = r.withNextField("next");
    assertThat(assertThrows(IllegalArgumentException.class, () -> ApiPage.read(next, page, 1,
        none, "{\"data\":[],\"next\":\"http://elsewhere/x\"}".getBytes(StandardCharsets.UTF_8)))
        .getMessage(), containsString("does not send its headers elsewhere"));
    assertThat(ApiPage.read(next, page, 1, none, "{\"data\":[],\"next\":\"/x?o=2\"}"
        .getBytes(StandardCharsets.UTF_8)).next(), equalTo("http://127.0.0.1/x?o=2"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> ApiRequest.of("https://me:pw@host/x", "data")).getMessage(),
        allOf(containsString("--httpHeaderEnv"), not(containsString("pw"))));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> ApiRequest.of("http://host/x?page=1", "data").withPageNumbers("page", 1))
        .getMessage(), containsString("already has the query parameter page"));
  }

  @Test
  void linkHeadersAreReadAsRfc8288Writes() {
    java.net.http.HttpHeaders h = java.net.http.HttpHeaders.of(java.util.Map.of("Link", List.of(
        "<https://api.example.com/e?page=1>; rel=\"prev first\", <https://api.example.com/e?page=3>;"
            + " title=\"x\"; rel=\"next\"")), (a, b) -> true);
    assertThat(ApiPage.nextLink(h), equalTo("https://api.example.com/e?page=3"));
    java.net.http.HttpHeaders bare = java.net.http.HttpHeaders.of(java.util.Map.of("link",
        List.of("</e?page=9>;rel=next")), (a, b) -> true);
    assertThat(ApiPage.nextLink(bare), equalTo("/e?page=9"));
  }
}
