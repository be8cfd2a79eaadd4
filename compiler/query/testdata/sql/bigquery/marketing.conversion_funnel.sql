SELECT
  funnel_stage AS `funnel_stage`,
  count(*) AS `sessions`
FROM web_sessions
WHERE DATETIME((started_at), 'Europe/Berlin') >= CAST(@p1 AS DATETIME)
  AND DATETIME((started_at), 'Europe/Berlin') < CAST(@p2 AS DATETIME)
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST
LIMIT 10000
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
