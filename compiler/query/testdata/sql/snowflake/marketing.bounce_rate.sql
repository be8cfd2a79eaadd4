SELECT
  avg(case when pageviews = 1 then 1.0 else 0 end) AS "bounce_rate"
FROM web_sessions
WHERE (started_at) >= TO_TIMESTAMP_NTZ(?)
  AND (started_at) < TO_TIMESTAMP_NTZ(?)
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
