SELECT
  date_trunc('week', started_at) AS "started_at",
  device AS "device",
  avg(case when converted then 1.0 else 0 end) AS "conversion_rate"
FROM web_sessions
WHERE (started_at) >= CAST($1 AS TIMESTAMP)
  AND (started_at) < CAST($2 AS TIMESTAMP)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
