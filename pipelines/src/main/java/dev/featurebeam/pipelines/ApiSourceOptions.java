package dev.featurebeam.pipelines;

import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How {@code batch --source=http(s)://…} pages through a JSON API and lands what it fetched. */
public interface ApiSourceOptions extends PipelineOptions {
  @Description("With an http(s) source, the dotted path of each page's array of records, e.g."
      + " data or result.items.")
  @Default.String("data")
  String getRecordsField();

  void setRecordsField(String value);

  @Description("With an http(s) source, page by a cursor: the dotted path of the field holding"
      + " the next page's cursor (absent, null or \"\" on the last page), sent back as"
      + " --cursorParam. Without --cursorField, --nextField or --pageParam, a Link header with"
      + " rel=\"next\" is followed.")
  String getCursorField();

  void setCursorField(String value);

  @Description("With --cursorField, the query parameter that carries the cursor.")
  @Default.String("cursor")
  String getCursorParam();

  void setCursorParam(String value);

  @Description("With an http(s) source, page by a next link: the dotted path of the field"
      + " holding the next page's URL (absolute or relative; on the same host).")
  String getNextField();

  void setNextField(String value);

  @Description("With an http(s) source, page by number: the query parameter of the page number,"
      + " counted up from --firstPage until a page holds no record.")
  String getPageParam();

  void setPageParam(String value);

  @Description("With --pageParam, the number of the first page.")
  @Default.Long(1)
  long getFirstPage();

  void setFirstPage(long value);

  @Description("With an http(s) source, a query parameter that receives the earliest event time"
      + " the run needs (its first as-of instant less the longest window and dedup_within), so"
      + " the API returns only newer events. Not sent when a feature reads the whole history or"
      + " a dedup_key has no dedup_within. The API must include events at that instant.")
  String getSinceParam();

  void setSinceParam(String value);

  @Description("With an http(s) source, a query parameter that receives the run's last as-of"
      + " instant; no event at or after it is used.")
  String getUntilParam();

  void setUntilParam(String value);

  @Description("How --sinceParam and --untilParam write an instant: iso"
      + " (2025-01-01T00:00:00Z), epoch_millis or epoch_seconds.")
  @Default.String("iso")
  String getTimeParamFormat();

  void setTimeParamFormat(String value);

  @Description("With an http(s) source, a request header whose value is an environment"
      + " variable's: NAME=ENV_VAR, e.g. Authorization=API_TOKEN with API_TOKEN='Bearer …'."
      + " Repeat the option for several headers. The values are never printed, logged or"
      + " recorded.")
  List<String> getHttpHeaderEnv();

  void setHttpHeaderEnv(List<String> value);

  @Description("With an http(s) source, how long connecting and each answer may take before the"
      + " attempt fails and is retried, e.g. 30s.")
  @Default.String("30s")
  String getHttpTimeout();

  void setHttpTimeout(String value);

  @Description("With an http(s) source, attempts per page (the first included) on 408, 429,"
      + " 5xx, timeouts and connection errors; then the run fails and publishes nothing.")
  @Default.Integer(5)
  int getHttpMaxAttempts();

  void setHttpMaxAttempts(int value);

  @Description("With an http(s) source, the wait before the first retry; it doubles with each"
      + " retry up to 60s, with jitter. A Retry-After header is waited for instead (up to 5 min).")
  @Default.String("1s")
  String getHttpBackoff();

  void setHttpBackoff(String value);

  @Description("With an http(s) source, fetch every page again instead of reading the copy a"
      + " previous run landed under OUT/_landing/.")
  @Default.Boolean(false)
  boolean getRefetch();

  void setRefetch(boolean value);
}
