-- The clean events of benchmarks/bench_spec.yaml with FeatureBeam's semantics (docs/reference.md):
-- read, validated and de-duplicated as a batch run does, as DuckDB common table expressions ending
-- in `events` (user_id, event_type, amount, status, ms). DuckDbFeatures fills in the ${...}
-- placeholders and puts them after WITH, before duckdb_features.sql or duckdb_training_set.sql.
-- Every field as text. Rows whose column count differs from the header's (or whose quoting is
-- broken) are skipped: FeatureBeam quarantines them as MALFORMED.
raw AS (
  SELECT ${raw_columns}
  FROM read_csv(${source}, header = true, auto_detect = false, all_varchar = true,
                columns = ${columns}, delim = ',', quote = '"', escape = '"',
                strict_mode = true, null_padding = false, ignore_errors = true)
),
-- Strings are stripped of surrounding white space (only where there is some: trim() with a set
-- of characters is slow); empty means missing.
stripped AS (
  SELECT ${strip(event_id)} AS event_id,
         ${strip(user_id)} AS user_id,
         ${strip(event_type)} AS event_type,
         ${strip(amount)} AS amount_text,
         ${strip(status)} AS status,
         ${strip(category)} AS category,
         ${strip(ts)} AS ts_text
  FROM raw
),
timed AS (
  SELECT event_id, user_id, event_type, amount_text, status, category,
         -- a plain decimal or scientific number (checked finite below; NaN and infinities are bad)
         CASE WHEN regexp_full_match(amount_text, '[0-9.eE+-]+')
              THEN TRY_CAST(amount_text AS DOUBLE) END AS amount,
         CASE
           -- the common layout, 2025-01-05T10:00:00.123 then Z or +05:30, without a regexp_extract
           -- (DuckDB's cast would take hour 24 as the next day: java.time does not)
           WHEN regexp_full_match(ts_text,
                  '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}(Z|[+-][0-9]{2}:[0-9]{2})')
             THEN CASE
                    WHEN substr(ts_text, 12, 2) > '23' OR substr(ts_text, 15, 2) > '59'
                         OR substr(ts_text, 18, 2) > '59' THEN NULL
                    WHEN length(ts_text) = 24 THEN epoch_ms(TRY_CAST(left(ts_text, 23) AS TIMESTAMP))
                    WHEN substr(ts_text, 25, 5) > '18:00' OR substr(ts_text, 28, 2) > '59' THEN NULL
                    ELSE epoch_ms(TRY_CAST(left(ts_text, 23) AS TIMESTAMP))
                         - (CASE WHEN substr(ts_text, 24, 1) = '-' THEN -1 ELSE 1 END)
                           * (substr(ts_text, 25, 2)::BIGINT * 3600000 + substr(ts_text, 28, 2)::BIGINT * 60000)
                  END
           -- epoch milliseconds
           WHEN regexp_full_match(ts_text, '-?[0-9]+') THEN TRY_CAST(ts_text AS BIGINT)
           -- any other ISO-8601: a date; or date, T (or t, or a space) and time, with Z, an offset
           -- or neither (UTC); fields checked as java.time's strict ISO formats check them
           ELSE list_transform([regexp_extract(ts_text,
                  '^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:([Tt ])([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{0,9}))?)?(?:([Zz])|([+-])([0-9]{2})(?::([0-9]{2})(?::([0-9]{2}))?)?)?)?$',
                  ['d', 't', 'hh', 'mi', 'ss', 'frac', 'z', 'sg', 'oh', 'om', 'os'])],
                lambda iso: CASE
                  WHEN iso.d = '' THEN NULL
                  WHEN iso.hh = '' THEN epoch_ms(TRY_CAST(iso.d AS DATE))
                  WHEN iso.hh::INT > 23 OR iso.mi::INT > 59 OR (iso.ss <> '' AND iso.ss::INT > 59) THEN NULL
                  -- FeatureBeam finds a numeric offset only after an upper-case T (or a space)
                  WHEN iso.t = 't' AND iso.sg <> '' THEN NULL
                  WHEN iso.sg <> '' AND ((iso.om <> '' AND iso.om::INT > 59) OR (iso.os <> '' AND iso.os::INT > 59)
                       OR iso.oh::INT * 3600 + (CASE WHEN iso.om = '' THEN 0 ELSE iso.om::INT * 60 END)
                          + (CASE WHEN iso.os = '' THEN 0 ELSE iso.os::INT END) > 64800) THEN NULL
                  ELSE epoch_ms(TRY_CAST(iso.d AS DATE))
                       + iso.hh::BIGINT * 3600000 + iso.mi::BIGINT * 60000
                       + (CASE WHEN iso.ss = '' THEN 0 ELSE iso.ss::BIGINT * 1000 END)
                       + (CASE WHEN iso.frac = '' THEN 0 ELSE rpad(left(iso.frac, 3), 3, '0')::BIGINT END)
                       - (CASE WHEN iso.sg = '' THEN 0
                               ELSE (CASE WHEN iso.sg = '-' THEN -1 ELSE 1 END)
                                    * (iso.oh::BIGINT * 3600000
                                       + (CASE WHEN iso.om = '' THEN 0 ELSE iso.om::BIGINT * 60000 END)
                                       + (CASE WHEN iso.os = '' THEN 0 ELSE iso.os::BIGINT * 1000 END)) END)
                END)[1]
         END AS ms
  FROM stripped
),
-- (end of parsing)
-- Validation: required fields present, amount a finite number >= 0, ts readable (and within
-- what Beam can carry). Everything else is FeatureBeam's quarantine.
valid AS (
  SELECT event_id, user_id, event_type, amount, status, category, ms
  FROM timed
  WHERE event_id IS NOT NULL AND user_id IS NOT NULL
    AND ms IS NOT NULL AND ms BETWEEN ${min_event_ms} AND ${max_event_ms}
    AND (amount_text IS NULL OR (amount IS NOT NULL AND isfinite(amount) AND amount >= 0))
),
-- De-duplication by event_id: the earliest event time wins, ties broken by the smallest canonical
-- serialization. Only ids that occur more than once need the serialization.
dup_ids AS (
  SELECT event_id FROM valid GROUP BY event_id HAVING count(*) > 1
),
chosen AS (
  SELECT first(struct_pack(user_id, event_type, amount, status, ms) ORDER BY ms, canonical) AS e
  FROM (
    SELECT v.*,
           '{"event_id":' || ${json(v.event_id)}
           || ',"user_id":' || ${json(v.user_id)}
           || ',"event_type":' || coalesce(${json(v.event_type)}, 'null')
           || ',"amount":' || coalesce(v.amount::VARCHAR, 'null')
           || ',"status":' || coalesce(${json(v.status)}, 'null')
           || ',"category":' || coalesce(${json(v.category)}, 'null')
           || ',"ts":"' || strftime(make_timestamp(v.ms * 1000), '%Y-%m-%dT%H:%M:%S')
           || (CASE WHEN v.ms % 1000 = 0 THEN '' ELSE '.' || lpad(((v.ms % 1000 + 1000) % 1000)::VARCHAR, 3, '0') END)
           || 'Z"}' AS canonical
    FROM valid v SEMI JOIN dup_ids USING (event_id)
  )
  GROUP BY event_id
),
events AS (
  SELECT user_id, event_type, amount, status, ms FROM valid ANTI JOIN dup_ids USING (event_id)
  UNION ALL
  SELECT e.user_id, e.event_type, e.amount, e.status, e.ms FROM chosen
)
