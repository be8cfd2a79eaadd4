SELECT
  DATE_TRUNC('WEEK', started_at) AS "started_at",
  device AS "device",
  avg(case when converted then 1.0 else 0 end) AS "conversion_rate"
FROM web_sessions
WHERE (started_at) >= TO_TIMESTAMP_NTZ(?)
  AND (started_at) < TO_TIMESTAMP_NTZ(?)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
