package dev.featurebeam.io.source.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * One page of an API's answer, read: its records, each printed as one compact JSON line, and
 * where the next page is (a URL, a cursor or a page number, as the request's paging says), or
 * null on the last page.
 *
 * <p>Records are printed from a tree that keeps numbers exactly as written ({@code 12.50} stays
 * {@code 12.50}, big integers stay whole) and fields in their order, so the same record always
 * lands as the same bytes, and reads as a {@code .jsonl} line of it would. A record that is not
 * an object lands as it is and is quarantined as malformed when read. A body that is not JSON,
 * holds a name twice, or lacks its records array fails the page.
 */
public record ApiPage(List<String> records, @Nullable String next) {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true))
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
  /** One link-value of an RFC 8288 Link header: {@code <URI>; param; param...}. */
  private static final Pattern LINK = Pattern.compile("<([^>]*)>((?:\\s*;\\s*[^;,]+)*)");
  private static final Pattern REL = Pattern.compile(
      "(?i);\\s*rel\\s*=\\s*(?:\"([^\"]*)\"|([^\\s;,]+))");

  /**
   * Reads the answer to {@code request}'s page at {@code uri} (page number {@code pageNumber}
   * when pages are numbered).
   *
   * @throws IllegalArgumentException naming what is wrong with the page
   */
  public static ApiPage read(ApiRequest request, URI uri, long pageNumber, HttpHeaders headers,
      byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the answer is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("the answer cannot be read: " + e.getMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new IllegalArgumentException("the answer is empty");
    }
    JsonNode array = field(root, request.recordsField());
    if (array == null || !array.isArray()) {
      throw new IllegalArgumentException("the answer has no array '" + request.recordsField()
          + "' (--recordsField)" + (array == null ? "" : ": it is " + array.getNodeType()));
    }
    List<String> records = new ArrayList<>(array.size());
    try {
      for (JsonNode record : array) {
        records.add(JSON.writeValueAsString(record));
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e); // a tree always prints
    }
    return new ApiPage(records, next(request, uri, pageNumber, headers, root, records.isEmpty()));
  }

  private static @Nullable String next(ApiRequest request, URI uri, long pageNumber,
      HttpHeaders headers, JsonNode root, boolean empty) {
    switch (request.paging()) {
      case PAGE_NUMBER:
        return empty ? null : Long.toString(pageNumber + 1);
      case CURSOR:
        return text(root, request.pagingField(), "cursor");
      case NEXT_FIELD:
        String link = text(root, request.pagingField(), "next link");
        return link == null ? null : resolve(uri, link);
      default:
        String next = nextLink(headers);
        return next == null ? null : resolve(uri, next);
    }
  }

  /** A field's text: null when absent, null or ""; an object or array is not a cursor or link. */
  private static @Nullable String text(JsonNode root, String path, String what) {
    JsonNode n = field(root, path);
    if (n == null || n.isNull() || (n.isTextual() && n.asText().isEmpty())) {
      return null;
    }
    if (!n.isValueNode()) {
      throw new IllegalArgumentException("the " + what + " '" + path + "' is " + n.getNodeType()
          + ", not a value");
    }
    return n.asText();
  }

  /** The node at a dotted path, or null. */
  private static @Nullable JsonNode field(JsonNode root, String path) {
    JsonNode n = root;
    for (String name : path.split("\\.")) {
      n = n.isObject() ? n.get(name) : null;
      if (n == null) {
        return null;
      }
    }
    return n;
  }

  /** The target of the first {@code rel="next"} link of the Link headers, or null. */
  static @Nullable String nextLink(HttpHeaders headers) {
    for (String header : headers.allValues("Link")) {
      Matcher m = LINK.matcher(header);
      while (m.find()) {
        Matcher rel = REL.matcher(m.group(2));
        while (rel.find()) {
          String rels = rel.group(1) != null ? rel.group(1) : rel.group(2);
          for (String r : rels.trim().split("\\s+")) {
            if (r.equalsIgnoreCase("next")) {
              return m.group(1).trim();
            }
          }
        }
      }
    }
    return null;
  }

  /**
   * {@code link} resolved against the page's URL. A link to another scheme, host or port is
   * refused: the request's headers (credentials) would go with it.
   */
  private static String resolve(URI page, String link) {
    URI next;
    try {
      next = page.resolve(link.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the next link " + link + " is not a URL");
    }
    if (!page.getScheme().equalsIgnoreCase(next.getScheme())
        || !page.getHost().equalsIgnoreCase(String.valueOf(next.getHost()))
        || port(page) != port(next)) {
      throw new IllegalArgumentException("the next link " + next + " leaves " + page.getScheme()
          + "://" + page.getRawAuthority() + "; a pull does not send its headers elsewhere");
    }
    return next.toString();
  }

  private static int port(URI u) {
    return u.getPort() != -1 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
  }
}
