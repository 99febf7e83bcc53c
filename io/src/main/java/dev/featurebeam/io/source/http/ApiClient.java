package dev.featurebeam.io.source.http;

import static com.google.common.base.Preconditions.checkArgument;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import javax.annotation.Nullable;

/**
 * GETs one page of a JSON API with the JDK's {@link HttpClient}, retrying with Failsafe what may
 * pass: HTTP 408, 429 and 5xx (but 501 and 505), timeouts and connection errors, at most {@link
 * #withMaxAttempts} times in all. A retry waits as the answer's {@code Retry-After} asks (plus
 * up to a tenth more, so that clients do not come back at once), or else an exponential
 * backoff with "equal jitter": half the doubled delay plus a random part of the other half.
 * Any other answer but 2xx fails at once. Redirects are not followed: the request's headers
 * (credentials) must not go to a host the user did not name.
 *
 * <p>Header values are secrets: no message, notice or exception of this class holds one ({@link
 * #redact}).
 */
public final class ApiClient {
  /** The longest Retry-After a pull waits for; a longer one fails the pull at once. */
  static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);
  private static final int BODY_SHOWN = 200;

  private final Map<String, String> headers;
  private final Duration timeout;
  private final int maxAttempts;
  private final Duration backoff;
  private final Duration maxBackoff;
  private final Consumer<String> notices;
  private final HttpClient http;

  private ApiClient(Map<String, String> headers, Duration timeout, int maxAttempts,
      Duration backoff, Duration maxBackoff, Consumer<String> notices) {
    this.headers = headers;
    this.timeout = timeout;
    this.maxAttempts = maxAttempts;
    this.backoff = backoff;
    this.maxBackoff = maxBackoff;
    this.notices = notices;
    // Pages are fetched one after the other: HTTP/2's multiplexing has nothing to gain.
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(timeout)
        .build();
  }

  /** 30 s per request, 5 attempts, the first retry after about 1 s, none more than 60 s apart. */
  public static ApiClient create() {
    return new ApiClient(Map.of(), Duration.ofSeconds(30), 5, Duration.ofSeconds(1),
        Duration.ofSeconds(60), notice -> {});
  }

  /** Sends the header {@code name} with {@code value} on every request; the value is never shown. */
  public ApiClient withHeader(String name, String value) {
    checkArgument(name != null && !name.isBlank(), "a header needs a name");
    checkArgument(value != null, "header %s has no value", name);
    try {
      HttpRequest.newBuilder(URI.create("http://localhost/")).header(name, "x");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("header " + name + " cannot be set: " + e.getMessage());
    }
    try {
      HttpRequest.newBuilder(URI.create("http://localhost/")).header(name, value);
    } catch (IllegalArgumentException e) {
      // The JDK's message may quote the value.
      throw new IllegalArgumentException("header " + name + " has a value that is not a valid"
          + " header value (a line break or control character?)");
    }
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new ApiClient(Map.copyOf(h), timeout, maxAttempts, backoff, maxBackoff, notices);
  }

  /** How long a connection and each answer may take before the attempt fails (and is retried). */
  public ApiClient withTimeout(Duration value) {
    checkArgument(value.toMillis() > 0, "--httpTimeout must be positive");
    return new ApiClient(headers, value, maxAttempts, backoff, maxBackoff, notices);
  }

  /** Attempts per page, the first included. */
  public ApiClient withMaxAttempts(int value) {
    checkArgument(value >= 1, "--httpMaxAttempts must be at least 1");
    return new ApiClient(headers, timeout, value, backoff, maxBackoff, notices);
  }

  /** The first retry's delay before jitter; each further one doubles it, up to {@code max}. */
  public ApiClient withBackoff(Duration first, Duration max) {
    checkArgument(first.toMillis() >= 0 && max.compareTo(first) >= 0,
        "a backoff needs 0 <= first <= max");
    return new ApiClient(headers, timeout, maxAttempts, first, max, notices);
  }

  /** Hears each retry: what failed and how long the pull waits. */
  public ApiClient withNotices(Consumer<String> value) {
    return new ApiClient(headers, timeout, maxAttempts, backoff, maxBackoff, value);
  }

  public Duration timeout() {
    return timeout;
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  /** The names of the headers sent (their values are not for display). */
  public java.util.Set<String> headerNames() {
    return new java.util.TreeSet<>(headers.keySet());
  }

  /** One 2xx answer and how many attempts it took. */
  public record Response(URI uri, int status, HttpHeaders headers, byte[] body, int attempts) {}

  /**
   * GETs {@code uri} until it answers 2xx, a failure that cannot pass, or the attempts run out.
   *
   * @throws ApiException with a message that names the URL and the last failure
   */
  public Response get(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(timeout)
        .header("Accept", "application/json");
    headers.forEach(b::header);
    HttpRequest request = b.build();
    long started = System.nanoTime();
    int[] attempts = {0};
    RetryPolicy<HttpResponse<byte[]>> policy = RetryPolicy.<HttpResponse<byte[]>>builder()
        .handle(IOException.class)
        .handleResultIf(r -> retryable(r.statusCode()))
        .abortIf(r -> r != null && tooLong(retryAfter(r.headers())))
        .withMaxAttempts(maxAttempts)
        .withDelayFn(ctx -> delay(ctx.getAttemptCount(), ctx.getLastResult()))
        .onRetryScheduled(e -> notices.accept(String.format(Locale.ROOT,
            "GET %s: %s; attempt %d of %d in %.1f s", uri,
            e.getLastResult() != null ? status(e.getLastResult())
                : redact(String.valueOf(e.getLastException())),
            e.getAttemptCount() + 1, maxAttempts, e.getDelay().toMillis() / 1000.0)))
        .build();
    HttpResponse<byte[]> last;
    try {
      last = Failsafe.with(policy).get(ctx -> {
        attempts[0] = ctx.getAttemptCount() + 1;
        return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      });
    } catch (FailsafeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof InterruptedException) {
        Thread.currentThread().interrupt();
        throw new ApiException("GET " + uri + ": interrupted");
      }
      throw new ApiException(gaveUp(uri, attempts[0], started)
          + redact(cause.getClass().getSimpleName() + ": " + cause.getMessage()));
    }
    int code = last.statusCode();
    if (code / 100 == 2) {
      return new Response(uri, code, last.headers(), last.body(), attempts[0]);
    }
    Duration after = retryAfter(last.headers());
    if (tooLong(after)) {
      throw new ApiException("GET " + uri + ": " + status(last) + " asks to retry after "
          + after.toSeconds() + " s, longer than the " + MAX_RETRY_AFTER.toMinutes()
          + " min a pull waits");
    }
    String failed = retryable(code) ? gaveUp(uri, attempts[0], started)
        : "GET " + uri + ": ";
    throw new ApiException(failed + status(last) + bodyExcerpt(last));
  }

  private String gaveUp(URI uri, int attempts, long startedNanos) {
    return String.format(Locale.ROOT, "GET %s: no answer after %d attempt%s over %.1f s: ", uri,
        attempts, attempts == 1 ? "" : "s", (System.nanoTime() - startedNanos) / 1e9);
  }

  static boolean retryable(int status) {
    return status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501
        && status != 505);
  }

  private static String status(HttpResponse<?> r) {
    return "HTTP " + r.statusCode();
  }

  private String bodyExcerpt(HttpResponse<byte[]> r) {
    String body = new String(r.body(), StandardCharsets.UTF_8).strip().replaceAll("\\s+", " ");
    if (body.isEmpty()) {
      return "";
    }
    return " (" + redact(body.length() > BODY_SHOWN ? body.substring(0, BODY_SHOWN) + "…" : body)
        + ")";
  }

  /**
   * The wait before attempt {@code failures + 1}: the answer's Retry-After plus up to a tenth
   * more, or {@code min(max, first * 2^(failures-1))} with equal jitter.
   */
  Duration delay(int failures, @Nullable HttpResponse<byte[]> last) {
    Duration after = last == null ? null : retryAfter(last.headers());
    ThreadLocalRandom random = ThreadLocalRandom.current();
    if (after != null) {
      long ms = after.toMillis();
      return Duration.ofMillis(ms + (ms < 10 ? 0 : random.nextLong(ms / 10 + 1)));
    }
    long cap = maxBackoff.toMillis();
    long d = backoff.toMillis();
    for (int i = 1; i < failures && d < cap; i++) {
      d *= 2;
    }
    d = Math.min(d, cap);
    return Duration.ofMillis(d / 2 + random.nextLong(d - d / 2 + 1));
  }

  /** A Retry-After header's wait: delta-seconds or an HTTP date; null when absent or unreadable. */
  static @Nullable Duration retryAfter(HttpHeaders h) {
    String v = h.firstValue("Retry-After").orElse(null);
    if (v == null) {
      return null;
    }
    v = v.strip();
    if (v.matches("\\d{1,9}")) {
      return Duration.ofSeconds(Long.parseLong(v));
    }
    try {
      Duration d = Duration.between(ZonedDateTime.now(),
          ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME));
      return d.isNegative() ? Duration.ZERO : d;
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static boolean tooLong(@Nullable Duration retryAfter) {
    return retryAfter != null && retryAfter.compareTo(MAX_RETRY_AFTER) > 0;
  }

  /** {@code message} with every header value sent replaced by ***. */
  public String redact(@Nullable String message) {
    if (message == null) {
      return "";
    }
    String out = message;
    for (String value : headers.values()) {
      if (!value.isEmpty()) {
        out = out.replace(value, "***");
        // A bearer or basic token may be echoed without its scheme.
        int space = value.indexOf(' ');
        if (space > 0 && space < value.length() - 1) {
          out = out.replace(value.substring(space + 1), "***");
        }
      }
    }
    return out;
  }

  /** A page could not be fetched; the message holds no header value. */
  public static final class ApiException extends RuntimeException {
    ApiException(String message) {
      super(message);
    }
  }
}
