WITH `bic_latest` AS (
  SELECT
    DATETIME_TRUNC(DATETIME(started_at, 'Europe/Berlin'), ISOWEEK) AS `bic_period`,
    max(DATETIME(started_at, 'Europe/Berlin')) AS `bic_last`
  FROM web_sessions
  WHERE DATETIME((started_at), 'Europe/Berlin') >= CAST(@p1 AS DATETIME)
    AND DATETIME((started_at), 'Europe/Berlin') < CAST(@p2 AS DATETIME)
    AND DATETIME((started_at), 'Europe/Berlin') IS NOT NULL
  GROUP BY 1
  ORDER BY 1 DESC NULLS LAST
  LIMIT 1
),
`bic_bounds` AS (
  SELECT
    `bic_period`,
    DATETIME_ADD(DATETIME_TRUNC(`bic_last`, DAY), INTERVAL 1 DAY) AS `bic_end`,
    DATETIME_SUB(`bic_period`, INTERVAL 7 DAY) AS `bic_previous`,
    DATETIME_ADD(DATETIME_SUB(DATETIME_TRUNC(`bic_last`, DAY), INTERVAL 7 DAY), INTERVAL 1 DAY) AS `bic_previous_end`
  FROM `bic_latest`
),
`bic_periods` AS (
  SELECT
    CASE WHEN DATETIME((started_at), 'Europe/Berlin') >= `bic_bounds`.`bic_period` THEN 'current' ELSE 'previous' END AS `bic_side`,
    count(*) AS `sessions`
  FROM web_sessions
  CROSS JOIN `bic_bounds`
  WHERE ((DATETIME((started_at), 'Europe/Berlin') >= `bic_bounds`.`bic_period` AND DATETIME((started_at), 'Europe/Berlin') < `bic_bounds`.`bic_end`) OR (DATETIME((started_at), 'Europe/Berlin') >= `bic_bounds`.`bic_previous` AND DATETIME((started_at), 'Europe/Berlin') < `bic_bounds`.`bic_previous_end`))
  GROUP BY 1
)
SELECT
  `bic_bounds`.`bic_period` AS `started_at`,
  `cur`.`sessions` AS `sessions`,
  `prev`.`sessions` AS `sessions_previous`
FROM `bic_bounds`
JOIN `bic_periods` AS `cur` ON `cur`.`bic_side` = 'current'
LEFT JOIN `bic_periods` AS `prev` ON `prev`.`bic_side` = 'previous'
-- args: ["2024-12-30 00:00:00","2026-01-01 00:00:00"]
