SELECT
  date_trunc('month', started_at) AS "started_at",
  source AS "source",
  count(*) AS "sessions"
FROM web_sessions
WHERE (started_at) >= CAST($1 AS TIMESTAMP)
  AND (started_at) < CAST($2 AS TIMESTAMP)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
