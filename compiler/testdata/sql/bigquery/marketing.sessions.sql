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
WHERE `cur`.`started_at` IS NOT NULL
  AND `cur`.`started_at` >= CAST(@p3 AS DATETIME)
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: ["2024-12-23 00:00:00","2026-01-01 00:00:00","2024-12-30 00:00:00"]
