SELECT
  device AS `device`,
  source AS `source`,
  count(*) AS `sessions`,
  avg(pageviews) AS `pages_per_session`,
  sum(case when converted then 1 else 0 end) AS `conversions`,
  avg(case when converted then 1.0 else 0 end) AS `conversion_rate`
FROM web_sessions
WHERE (customer_id is not null) = @p1
  AND DATETIME((started_at), 'Europe/Berlin') >= CAST(@p2 AS DATETIME)
  AND DATETIME((started_at), 'Europe/Berlin') < CAST(@p3 AS DATETIME)
GROUP BY 1, 2
ORDER BY 3 DESC NULLS LAST, 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: [true,"2025-01-01 00:00:00","2026-01-01 00:00:00"]
