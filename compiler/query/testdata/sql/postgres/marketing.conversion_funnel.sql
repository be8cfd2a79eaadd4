SELECT
  funnel_stage AS "funnel_stage",
  count(*) AS "sessions"
FROM web_sessions
WHERE (started_at) >= CAST($1 AS timestamp)
  AND (started_at) < CAST($2 AS timestamp)
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
