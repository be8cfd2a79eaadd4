SELECT
  source AS "source",
  avg(case when converted then 1.0 else 0 end) AS "conversion_rate",
  avg(case when pageviews = 1 then 1.0 else 0 end) AS "bounce_rate"
FROM web_sessions
WHERE (started_at) >= TO_TIMESTAMP_NTZ(?)
  AND (started_at) < TO_TIMESTAMP_NTZ(?)
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
