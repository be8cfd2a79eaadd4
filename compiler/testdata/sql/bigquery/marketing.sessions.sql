WITH `periods` AS (
  SELECT
    DATETIME_TRUNC(DATETIME(started_at, 'Europe/Berlin'), ISOWEEK) AS `started_at`,
    count(*) AS `sessions`
  FROM web_sessions
  WHERE DATETIME((started_at), 'Europe/Berlin') >= CAST(@p1 AS DATETIME)
    AND DATETIME((started_at), 'Europe/Berlin') < CAST(@p2 AS DATETIME)
  GROUP BY 1
)
SELECT
  `cur`.`started_at` AS `started_at`,
  `cur`.`sessions` AS `sessions`,
  `prev`.`sessions` AS `sessions_previous`
FROM `periods` AS `cur`
LEFT JOIN `periods` AS `prev` ON `prev`.`started_at` = DATETIME_SUB(`cur`.`started_at`, INTERVAL 7 DAY)
ORDER BY 1 DESC
LIMIT 1
-- args: ["2025-01-01 00:00:00","2026-01-01 00:00:00"]
