SELECT
  DATETIME_TRUNC(DATETIME(started_at, 'Europe/Berlin'), MONTH) AS `started_at`,
  source AS `source`,
  count(*) AS `sessions`
FROM web_sessions
WHERE DATETIME((started_at), 'Europe/Berlin') >= CAST(@p1 AS DATETIME)
  AND DATETIME((started_at), 'Europe/Berlin') < CAST(@p2 AS DATETIME)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
