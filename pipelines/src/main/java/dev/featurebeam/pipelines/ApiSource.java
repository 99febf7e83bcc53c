package dev.featurebeam.pipelines;

import dev.featurebeam.io.source.http.ApiClient;
import dev.featurebeam.io.source.http.ApiPull;
import dev.featurebeam.io.source.http.ApiRequest;
import dev.featurebeam.io.source.http.Landing;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.AsOfRange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.annotation.Nullable;

/**
 * A batch run's JSON API source, from its options: the request (URL, paging, the run's time
 * bounds as query parameters) and the client (headers from the environment, timeout, attempts,
 * backoff), and the pull that lands its pages under {@code OUT/_landing/} for the run to read.
 */
final class ApiSource {
  final ApiRequest request;
  private final ApiClient client;
  private final boolean refetch;
  /** Why --sinceParam is not sent, or null. */
  private final @Nullable String unsentSince;

  private ApiSource(ApiRequest request, ApiClient client, boolean refetch,
      @Nullable String unsentSince) {
    this.request = request;
    this.client = client;
    this.refetch = refetch;
    this.unsentSince = unsentSince;
  }

  static boolean isApi(@Nullable String source) {
    String s = source == null ? "" : source.toLowerCase(Locale.ROOT);
    return s.startsWith("http://") || s.startsWith("https://");
  }

  /**
   * Reads the options of {@code source}; {@code env} reads the environment.
   *
   * @throws IllegalArgumentException naming the option that is wrong
   */
  static ApiSource of(ApiSourceOptions o, String source, FeatureSpec spec, AsOfRange range,
      Function<String, String> env) {
    List<String> paging = new ArrayList<>();
    if (o.getCursorField() != null) {
      paging.add("--cursorField");
    }
    if (o.getNextField() != null) {
      paging.add("--nextField");
    }
    if (o.getPageParam() != null) {
      paging.add("--pageParam");
    }
    if (paging.size() > 1) {
      throw new IllegalArgumentException("give one way of paging, not " + String.join(" and ",
          paging));
    }
    ApiRequest request = ApiRequest.of(source, o.getRecordsField());
    if (o.getCursorField() != null) {
      request = request.withCursor(o.getCursorField(), o.getCursorParam());
    } else if (o.getNextField() != null) {
      request = request.withNextField(o.getNextField());
    } else if (o.getPageParam() != null) {
      request = request.withPageNumbers(o.getPageParam(), o.getFirstPage());
    }
    ApiRequest.TimeFormat format;
    try {
      format = ApiRequest.TimeFormat.valueOf(o.getTimeParamFormat().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--timeParamFormat=" + o.getTimeParamFormat()
          + ": one of iso, epoch_millis, epoch_seconds");
    }
    String unsentSince = null;
    if (o.getSinceParam() != null) {
      long since = range.firstNeededMillis(spec);
      if (since == Long.MIN_VALUE) {
        // As the JDBC source's lower bound: only when no feature or dedup copy can look further back.
        unsentSince = "--sinceParam=" + o.getSinceParam() + " is not sent: a feature of the spec"
            + " reads the whole history, or its dedup_key has no dedup_within";
      } else {
        request = request.withTimeParam(o.getSinceParam(), since, format);
      }
    }
    if (o.getUntilParam() != null) {
      request = request.withTimeParam(o.getUntilParam(), range.endMillis(spec.asOf()), format);
    }
    ApiClient client = ApiClient.create()
        .withTimeout(duration("httpTimeout", o.getHttpTimeout()))
        .withMaxAttempts(o.getHttpMaxAttempts());
    Duration backoff = duration("httpBackoff", o.getHttpBackoff());
    client = client.withBackoff(backoff, backoff.compareTo(Duration.ofSeconds(60)) > 0 ? backoff
        : Duration.ofSeconds(60));
    for (String pair : o.getHttpHeaderEnv() == null ? List.<String>of() : o.getHttpHeaderEnv()) {
      int eq = pair.indexOf('=');
      if (eq <= 0 || eq == pair.length() - 1) {
        throw new IllegalArgumentException("--httpHeaderEnv=" + pair + ": give HEADER=ENV_VAR,"
            + " e.g. Authorization=API_TOKEN");
      }
      String name = pair.substring(0, eq);
      String var = pair.substring(eq + 1);
      String value = env.apply(var);
      if (value == null) {
        throw new IllegalArgumentException("--httpHeaderEnv=" + pair + ": no environment variable "
            + var);
      }
      client = client.withHeader(name, value);
    }
    return new ApiSource(request, client, o.getRefetch(), unsentSince);
  }

  /** A source that is not an API takes none of the API's options. */
  static void refuseOptions(ApiSourceOptions o) {
    if (o.getCursorField() != null || o.getNextField() != null || o.getPageParam() != null
        || o.getSinceParam() != null || o.getUntilParam() != null || o.getRefetch()
        || (o.getHttpHeaderEnv() != null && !o.getHttpHeaderEnv().isEmpty())) {
      throw new IllegalArgumentException("--cursorField, --nextField, --pageParam, --sinceParam,"
          + " --untilParam, --httpHeaderEnv and --refetch are for an http:// or https:// source");
    }
  }

  private static Duration duration(String option, String value) {
    return Duration.ofMillis(Durations.parse(option, value).getMillis());
  }

  /** The names of the headers sent (their values are never shown), the timeout and attempts. */
  Map<String, Object> clientSettings() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("headers", new ArrayList<>(client.headerNames()));
    m.put("timeout_ms", client.timeout().toMillis());
    m.put("max_attempts", client.maxAttempts());
    return m;
  }

  /** Where this source lands for {@code spec} in the store {@code out}. */
  Path landingDir(Path out, FeatureSpec spec) {
    return Landing.folder(out, spec, request);
  }

  /**
   * Lands every page (or reuses or resumes the landing) in {@code dir}; the caller holds the
   * store's lock.
   *
   * @throws IllegalArgumentException when the API cannot be read: what landed stays for the
   *     next run to resume
   */
  ApiPull.Result land(Path dir, Consumer<String> notices) {
    if (unsentSince != null) {
      notices.accept(unsentSince);
    }
    try {
      return ApiPull.of(request, client.withNotices(notices)).withNotices(notices)
          .into(dir, refetch);
    } catch (ApiClient.ApiException | IllegalStateException | IllegalArgumentException e) {
      throw new IllegalArgumentException("--source=" + request.url() + ": "
          + client.redact(e.getMessage()), e);
    }
  }
}
