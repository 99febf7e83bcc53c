-- benchmarks/bench_spec.yaml with FeatureBeam's semantics (docs/reference.md), as one DuckDB query:
-- the part after the clean `events` of duckdb_events.sql (which DuckDbFeatures puts first, after
-- WITH). DuckDbFeatures fills in the ${...} placeholders and runs it as COPY (...) TO '<out.csv>'.
-- Day numbers are days since 1970-01-01; T(D) = (D + 1) * 86400000 ms (as_of: end_of_day).
-- Per user and UTC day: counts, the exact sum of purchase amounts as a 128-bit integer in units
-- of 2^-64 (every double amount is a whole number of those), and the latest event time. Events at
-- or after the last as-of instant are never used.
daily AS (
  SELECT user_id,
         (ms - ((ms % 86400000) + 86400000) % 86400000) // 86400000 AS day,
         count(*) AS n_all,
         count(*) FILTER (WHERE ps) AS n_ps,
         count(amount) FILTER (WHERE ps) AS n_amt,
         sum((amount * 18446744073709551616.0::DOUBLE)::HUGEINT) FILTER (WHERE ps) AS sum_ps,
         max(ms) AS last_ms
  FROM (SELECT *, coalesce(event_type = '${purchase}' AND status = '${success}', false) AS ps
        FROM events WHERE ms < ${end_ms})
  GROUP BY ALL
),
-- History older than any window of the run, folded per user (events_total, days_since_last).
history AS (
  SELECT user_id, sum(n_all) AS h_all, max(last_ms) AS h_last
  FROM daily WHERE day < ${from_day} - 29
  GROUP BY user_id
),
-- Every day from the user's first (or the first day a window of the run reaches) to the last
-- as-of date, so that ROWS frames are day windows.
grid AS (
  SELECT user_id, unnest(generate_series(lo, ${to_day})) AS day
  FROM (SELECT user_id, greatest(min(day), ${from_day} - 29) AS lo FROM daily GROUP BY user_id)
),
filled AS (
  SELECT g.user_id, g.day,
         coalesce(d.n_all, 0) AS n_all, coalesce(d.n_ps, 0) AS n_ps, coalesce(d.n_amt, 0) AS n_amt,
         coalesce(d.sum_ps, 0::HUGEINT) AS sum_ps, d.last_ms
  FROM grid g LEFT JOIN daily d ON d.user_id = g.user_id AND d.day = g.day
),
windows AS (
  SELECT user_id, day,
         sum(n_ps)   OVER (PARTITION BY user_id ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)  AS purchases_7d,
         sum(n_all)  OVER (PARTITION BY user_id ORDER BY day ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS n_30d,
         sum(n_amt)  OVER (PARTITION BY user_id ORDER BY day ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS n_amt_30d,
         sum(sum_ps) OVER (PARTITION BY user_id ORDER BY day ROWS BETWEEN 29 PRECEDING AND CURRENT ROW) AS sum_30d,
         n_all AS events_24h,
         sum(n_all)  OVER (PARTITION BY user_id ORDER BY day ROWS UNBOUNDED PRECEDING) AS n_total,
         max(last_ms) OVER (PARTITION BY user_id ORDER BY day ROWS UNBOUNDED PRECEDING) AS last_ms
  FROM filled
)
SELECT w.user_id,
       DATE '1970-01-01' + w.day::INTEGER AS as_of_date,
       w.purchases_7d::BIGINT AS purchases_7d,
       -- round the exact sum once: its decimal text parses to the nearest double, then / 2^64
       CASE WHEN w.n_amt_30d > 0
            THEN (w.sum_30d::VARCHAR)::DOUBLE / 18446744073709551616.0::DOUBLE END AS amount_30d,
       w.events_24h::BIGINT AS events_24h,
       w.events_24h > 0 AS active_24h,
       (w.n_total + coalesce(h.h_all, 0))::BIGINT AS events_total,
       (((w.day + 1) * 86400000 - greatest(w.last_ms, coalesce(h.h_last, w.last_ms))) // 86400000)::INTEGER
         AS days_since_last
FROM windows w LEFT JOIN history h USING (user_id)
WHERE w.day >= ${from_day} AND w.n_30d > 0
ORDER BY as_of_date, w.user_id
