SELECT
  pageviews AS "page_depth",
  device AS "device",
  avg(duration_seconds) AS "avg_duration"
FROM web_sessions
WHERE (pageviews) > $1
  AND (started_at) >= CAST($2 AS TIMESTAMP)
  AND (started_at) < CAST($3 AS TIMESTAMP)
GROUP BY 1, 2
ORDER BY 3 DESC NULLS LAST, 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: [1,"2025-01-01 00:00:00","2026-01-01 00:00:00"]
