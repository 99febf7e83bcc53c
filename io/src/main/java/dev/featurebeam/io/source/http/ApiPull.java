package dev.featurebeam.io.source.http;

import static com.google.common.base.Preconditions.checkNotNull;

import java.net.URI;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Pulls every page of an {@link ApiRequest} into a {@link Landing}, one page after the other, as
 * the API's paging needs: a complete landing is used as it is (the API is not asked again), an
 * incomplete one goes on from the page after its last, and {@code refetch} fetches every page
 * anew into a folder beside the landing, which replaces the landing once it is complete (a
 * refetch that fails leaves the old landing as it was). It runs in the launcher, before the pipeline, because a page's URL is known only
 * from the page before it.
 *
 * <p>A pull that goes round in circles (a next page fetched already, or numbered pages that all
 * come back the same) fails instead of landing forever.
 */
public final class ApiPull {
  private final ApiRequest request;
  private final ApiClient client;
  private final Consumer<String> notices;

  private ApiPull(ApiRequest request, ApiClient client, Consumer<String> notices) {
    this.request = request;
    this.client = client;
    this.notices = notices;
  }

  public static ApiPull of(ApiRequest request, ApiClient client) {
    return new ApiPull(checkNotNull(request, "request"), checkNotNull(client, "client"),
        notice -> {});
  }

  /** Hears whether the landing is reused, resumed or fetched. */
  public ApiPull withNotices(Consumer<String> value) {
    return new ApiPull(request, client, value);
  }

  /** What one pull did: the landing, complete, and how many pages it fetched now. */
  public record Result(Landing landing, int pagesFetched) {}

  /**
   * Lands the request's pages in {@code dir}.
   *
   * @throws ApiClient.ApiException when a page cannot be fetched: the pages before it stay
   *     landed, and the next pull resumes there
   * @throws IllegalArgumentException when a page cannot be read (named with its URL)
   */
  public Result into(Path dir, boolean refetch) {
    if (refetch) {
      Result fetched = pull(Landing.fresh(Landing.refetchDir(dir), request));
      return new Result(fetched.landing().replace(dir, request), fetched.pagesFetched());
    }
    Landing landing = Landing.open(dir, request);
    landing.verify();
    if (landing.complete()) {
      int pages = landing.pages().size();
      notices.accept("reading the landed copy of " + request.url() + " (" + pages
          + (pages == 1 ? " page, " : " pages, ") + landing.records() + " records, " + dir
          + "); --refetch asks the API again");
      return new Result(landing, 0);
    }
    if (!landing.isEmpty()) {
      notices.accept("resuming the pull of " + request.url() + " after page "
          + landing.pages().size() + " (" + dir + ")");
    }
    return pull(landing);
  }

  /** Fetches and lands the pages {@code landing} lacks. */
  private Result pull(Landing landing) {
    Set<String> fetched = new HashSet<>();
    landing.pages().forEach(p -> fetched.add(p.url()));
    int count = 0;
    while (!landing.complete()) {
      long number = pageNumber(landing);
      URI uri = landing.isEmpty() ? request.firstUri() : uriAfter(landing.next());
      if (!fetched.add(uri.toString())) {
        throw new IllegalArgumentException("the API's next page " + uri + " was landed already:"
            + " its paging goes round in circles");
      }
      ApiClient.Response response = client.get(uri);
      ApiPage page;
      try {
        page = ApiPage.read(request, uri, number, response.headers(), response.body());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("GET " + uri + ": " + client.redact(e.getMessage()), e);
      }
      if (request.paging() == ApiRequest.Paging.PAGE_NUMBER && !page.records().isEmpty()
          && !landing.isEmpty() && Landing.sha256(Landing.bytes(page))
              .equals(landing.pages().get(landing.pages().size() - 1).sha256())) {
        throw new IllegalArgumentException("GET " + uri + ": page " + number + " holds the same"
            + " records as the page before; does the API take --pageParam="
            + request.pagingParam() + "?");
      }
      landing.land(uri.toString(), page, response.attempts());
      count++;
    }
    return new Result(landing, count);
  }

  /** The number of the page to fetch next, when pages are numbered. */
  private long pageNumber(Landing landing) {
    if (request.paging() != ApiRequest.Paging.PAGE_NUMBER || landing.isEmpty()) {
      return request.firstPage();
    }
    return Long.parseLong(landing.next());
  }

  private URI uriAfter(String next) {
    switch (request.paging()) {
      case CURSOR:
        return request.cursorUri(next);
      case PAGE_NUMBER:
        return request.pageUri(Long.parseLong(next));
      default:
        return URI.create(next);
    }
  }
}
