-- benchmarks/bench_spec.yaml's exact training set (docs/reference.md, "Training sets") as one DuckDB
-- query: the part after the clean `events` of duckdb_events.sql (which DuckDbTrainingSet puts
-- first, after WITH). For every spine row, the features at T = its instant in epoch ms: a window of
-- length L covers [T - L, T), i.e. the events with T - L <= ms <= T - 1; the whole history is every
-- event with ms <= T - 1. DuckDbTrainingSet fills in the ${...} placeholders and runs it as
-- COPY (...) TO '<out.parquet>'.
--
-- The spine: every column as text, exactly as written (read_csv reads an empty field as NULL,
-- FeatureBeam keeps it as an empty string: coalesce). Its columns ride along as _c0, _c1, ... so
-- that no spine column can clash with a name used here. A line the reader cannot split, an empty
-- entity or a timestamp in another form than SpineGen writes stops the query (FeatureBeam would
-- quarantine the row; this comparator handles only clean spines).
spine_text AS (
  SELECT ${spine_pass_through}
  FROM read_csv(${spine}, header = true, auto_detect = false, all_varchar = true,
                columns = ${spine_columns}, delim = ',', quote = '"', escape = '"',
                strict_mode = true, null_padding = false)
),
spine AS (
  SELECT *,
         CASE WHEN ${spine_key} IS NULL THEN error('a spine row without ' || ${entity_name} || ': ' || _ts)
              ELSE ${spine_key} END AS _k,
         CASE
           WHEN regexp_full_match(_ts, '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z')
                AND substr(_ts, 12, 2) <= '23' AND substr(_ts, 15, 2) <= '59' AND substr(_ts, 18, 2) <= '59'
                AND TRY_CAST(rtrim(_ts, 'Z') AS TIMESTAMP) IS NOT NULL
             THEN epoch_ms(CAST(rtrim(_ts, 'Z') AS TIMESTAMP))
           ELSE error('a spine timestamp not of the form YYYY-MM-DDTHH:MM:SS[.mmm]Z: ' || _ts)
         END AS _ms
  FROM (SELECT *, ${spine_ts} AS _ts FROM spine_text)
),
-- Spine rows and the events of the spine's entities before its last instant, one timeline per
-- entity. An event row carries what the features read: whether it is a successful purchase, and
-- then its amount as a 128-bit integer in units of 2^-64 (every double amount is a whole number of
-- those), so that sums are exact and rounded once, as FeatureBeam's are.
timeline AS (
  SELECT _k, _ms, true AS _spine, false AS _ps, NULL::HUGEINT AS _amount, ${spine_c}
  FROM spine
  UNION ALL
  SELECT e.user_id, e.ms, false,
         coalesce(e.event_type = '${purchase}' AND e.status = '${success}', false),
         CASE WHEN e.event_type = '${purchase}' AND e.status = '${success}'
              THEN (e.amount * 18446744073709551616.0::DOUBLE)::HUGEINT END,
         ${spine_nulls}
  FROM events e SEMI JOIN (SELECT DISTINCT _k FROM spine) s ON e.user_id = s._k
  WHERE e.ms < (SELECT max(_ms) FROM spine)
),
-- RANGE frames over epoch ms: "L PRECEDING AND 1 PRECEDING" is [T - L, T - 1], whatever the order
-- among rows of equal ms, so an event at T itself is never in a frame. Spine rows in a frame are
-- not events: every aggregate skips them (FILTER, or _amount, which is NULL on spine rows).
windowed AS (
  SELECT _spine, _k, _ms, ${spine_c},
         count(*) FILTER (WHERE _ps) OVER w7d AS purchases_7d,
         count(_amount) OVER w30d AS n_amount_30d,
         sum(_amount) OVER w30d AS sum_30d,
         count(*) FILTER (WHERE NOT _spine) OVER w24h AS events_24h,
         count(*) FILTER (WHERE NOT _spine) OVER before_t AS events_total,
         max(_ms) FILTER (WHERE NOT _spine) OVER before_t AS last_ms
  FROM timeline
  WINDOW w7d AS (PARTITION BY _k ORDER BY _ms RANGE BETWEEN 604800000 PRECEDING AND 1 PRECEDING),
         w30d AS (PARTITION BY _k ORDER BY _ms RANGE BETWEEN 2592000000 PRECEDING AND 1 PRECEDING),
         w24h AS (PARTITION BY _k ORDER BY _ms RANGE BETWEEN 86400000 PRECEDING AND 1 PRECEDING),
         before_t AS (PARTITION BY _k ORDER BY _ms RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT ${spine_out},
       purchases_7d::BIGINT AS purchases_7d,
       -- round the exact sum once: its decimal text parses to the nearest double, then / 2^64
       CASE WHEN n_amount_30d > 0
            THEN (sum_30d::VARCHAR)::DOUBLE / 18446744073709551616.0::DOUBLE END AS amount_30d,
       events_24h::BIGINT AS events_24h,
       events_24h > 0 AS active_24h,
       events_total::BIGINT AS events_total,
       ((_ms - last_ms) // 86400000)::INTEGER AS days_since_last
FROM windowed
WHERE _spine
-- FeatureBeam's order: instant, entity, then the spine's columns as text (nulls first; there are
-- none here). DuckDB compares text by UTF-8 bytes, Java by UTF-16 units: the same for ASCII.
ORDER BY _ms, _k, ${spine_order}
