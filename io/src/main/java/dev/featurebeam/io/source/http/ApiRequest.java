package dev.featurebeam.io.source.http;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.annotation.Nullable;

/**
 * What one pull of a JSON API asks for: the first page's URL, where a page holds its records,
 * how it names the next page, and the time parameters added to the URL. Two pulls with equal
 * requests land in the same folder ({@link #key}); nothing secret is part of a request, since
 * headers are the {@link ApiClient}'s.
 */
@AutoValue
public abstract class ApiRequest {
  /** How a page names the one after it. */
  public enum Paging {
    /** An RFC 8288 {@code Link: <URL>; rel="next"} header; without one, the page is the last. */
    LINK_HEADER,
    /** A field of the body holding the next page's URL (absolute or relative). */
    NEXT_FIELD,
    /** A field of the body holding a cursor, sent back as a query parameter. */
    CURSOR,
    /** A page-number query parameter, counted up until a page holds no record. */
    PAGE_NUMBER
  }

  /** How a time parameter's value is written. */
  public enum TimeFormat {
    ISO,
    EPOCH_MILLIS,
    EPOCH_SECONDS;

    String format(long millis) {
      switch (this) {
        case EPOCH_MILLIS:
          return Long.toString(millis);
        case EPOCH_SECONDS:
          return Long.toString(Math.floorDiv(millis, 1000L));
        default:
          return java.time.Instant.ofEpochMilli(millis).toString();
      }
    }
  }

  /** The first page's URL as given, with its own query parameters. */
  public abstract URI url();

  /** Dotted path of the records array in a page's body, e.g. {@code data} or {@code result.items}. */
  public abstract String recordsField();

  public abstract Paging paging();

  /** NEXT_FIELD's and CURSOR's field (dotted path); else null. */
  public abstract @Nullable String pagingField();

  /** CURSOR's and PAGE_NUMBER's query parameter; else null. */
  public abstract @Nullable String pagingParam();

  /** PAGE_NUMBER's first page. */
  public abstract long firstPage();

  /** Query parameters the pull adds to its requests (time bounds), in order; values as sent. */
  public abstract Map<String, String> timeParams();

  /** A request of {@code url} (http or https) whose pages follow {@code Link} headers. */
  public static ApiRequest of(String url, String recordsField) {
    checkNotNull(url, "url");
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(url + " is not a URL: " + e.getMessage());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    checkArgument(scheme.equals("http") || scheme.equals("https"),
        "%s: an API source is an http:// or https:// URL", url);
    checkArgument(uri.getHost() != null, "%s: no host", url);
    // The URL is shown in the report and the lineage: credentials belong in headers.
    checkArgument(uri.getRawUserInfo() == null,
        "%s: a user or password in the URL would be shown in the report; give a header with"
            + " --httpHeaderEnv instead", uri.getHost());
    checkArgument(uri.getRawFragment() == null, "%s: a URL with a #fragment", url);
    checkField(recordsField, "--recordsField");
    return new AutoValue_ApiRequest.Builder().setUrl(uri).setRecordsField(recordsField)
        .setPaging(Paging.LINK_HEADER).setFirstPage(1L).setTimeParams(Map.of()).build();
  }

  abstract Builder toBuilder();

  @AutoValue.Builder
  abstract static class Builder {
    abstract Builder setUrl(URI value);

    abstract Builder setRecordsField(String value);

    abstract Builder setPaging(Paging value);

    abstract Builder setPagingField(@Nullable String value);

    abstract Builder setPagingParam(@Nullable String value);

    abstract Builder setFirstPage(long value);

    abstract Builder setTimeParams(Map<String, String> value);

    abstract ApiRequest build();
  }

  /** The next page's URL is the body's {@code field}. */
  public ApiRequest withNextField(String field) {
    checkField(field, "--nextField");
    return toBuilder().setPaging(Paging.NEXT_FIELD).setPagingField(field).setPagingParam(null)
        .build();
  }

  /** The body's {@code field} is a cursor, sent back as the query parameter {@code param}. */
  public ApiRequest withCursor(String field, String param) {
    checkField(field, "--cursorField");
    checkParam(param, "--cursorParam");
    return toBuilder().setPaging(Paging.CURSOR).setPagingField(field).setPagingParam(param)
        .build();
  }

  /** Pages are numbered by the query parameter {@code param}, from {@code first}. */
  public ApiRequest withPageNumbers(String param, long first) {
    checkParam(param, "--pageParam");
    checkArgument(first >= 0, "--firstPage must be 0 or more");
    return toBuilder().setPaging(Paging.PAGE_NUMBER).setPagingField(null).setPagingParam(param)
        .setFirstPage(first).build();
  }

  /** Adds the query parameter {@code param} with the instant {@code millis}, written as {@code format}. */
  public ApiRequest withTimeParam(String param, long millis, TimeFormat format) {
    checkParam(param, "a time parameter");
    checkArgument(!timeParams().containsKey(param), "the time parameter %s is given twice", param);
    checkArgument(!param.equals(pagingParam()), "%s is both a time and a paging parameter", param);
    Map<String, String> params = new LinkedHashMap<>(timeParams());
    params.put(param, format.format(millis));
    return toBuilder().setTimeParams(java.util.Collections.unmodifiableMap(params)).build();
  }

  /** The first page's URL: {@link #url} with the time parameters (and the first page number). */
  public URI firstUri() {
    return paging() == Paging.PAGE_NUMBER ? pageUri(firstPage()) : withParams(null, null);
  }

  /** The URL of the page after the cursor {@code cursor}. */
  URI cursorUri(String cursor) {
    checkArgument(paging() == Paging.CURSOR, "not a cursor request");
    return withParams(pagingParam(), cursor);
  }

  /** The URL of page {@code n}. */
  URI pageUri(long n) {
    checkArgument(paging() == Paging.PAGE_NUMBER, "not a page-number request");
    return withParams(pagingParam(), Long.toString(n));
  }

  private URI withParams(@Nullable String name, @Nullable String value) {
    StringBuilder query = new StringBuilder(url().getRawQuery() == null ? "" : url().getRawQuery());
    Map<String, String> params = new LinkedHashMap<>(timeParams());
    if (name != null) {
      params.put(name, value);
    }
    params.forEach((k, v) -> query.append(query.length() == 0 ? "" : "&").append(encode(k))
        .append('=').append(encode(v)));
    String s = url().toString();
    int cut = s.indexOf('?');
    String base = cut < 0 ? s : s.substring(0, cut);
    return URI.create(query.length() == 0 ? base : base + "?" + query);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The request as the landing's manifest and the run report record it. */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("url", url().toString());
    m.put("records_field", recordsField());
    m.put("paging", paging().name().toLowerCase(Locale.ROOT));
    if (pagingField() != null) {
      m.put("paging_field", pagingField());
    }
    if (pagingParam() != null) {
      m.put("paging_param", pagingParam());
    }
    if (paging() == Paging.PAGE_NUMBER) {
      m.put("first_page", firstPage());
    }
    m.put("time_params", new LinkedHashMap<>(timeParams()));
    return m;
  }

  /**
   * The landing folder's name: the host and the first 16 hex digits of the sha256 of {@link
   * #describe}, so that equal requests share a landing and a changed URL, paging or time
   * parameter gets its own.
   */
  public String key() {
    try {
      byte[] canonical = new ObjectMapper().writeValueAsBytes(describe());
      String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
      return url().getHost().replaceAll("[^A-Za-z0-9.-]", "_") + "-" + hash.substring(0, 16);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void checkField(String field, String option) {
    checkArgument(field != null && field.matches("[^.]+(\\.[^.]+)*"),
        "%s=%s: a field name, or names joined by dots", option, field);
  }

  private void checkParam(String param, String option) {
    checkArgument(param != null && !param.isBlank(), "%s needs a parameter name", option);
    String query = url().getRawQuery() == null ? "" : "&" + url().getRawQuery();
    checkArgument(!query.contains("&" + encode(param) + "="),
        "%s: the URL already has the query parameter %s, which the pull sets", option, param);
  }
}
