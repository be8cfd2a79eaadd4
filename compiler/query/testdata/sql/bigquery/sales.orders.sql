WITH `bic_latest` AS (
  SELECT
    DATETIME_TRUNC(DATETIME(ordered_at, 'Europe/Berlin'), MONTH) AS `bic_period`,
    max(DATETIME(ordered_at, 'Europe/Berlin')) AS `bic_last`
  FROM orders
  WHERE (status) IN (@p1, @p2, @p3)
    AND DATETIME((ordered_at), 'Europe/Berlin') IS NOT NULL
  GROUP BY 1
  ORDER BY 1 DESC NULLS LAST
  LIMIT 1
),
`bic_bounds` AS (
  SELECT
    `bic_period`,
    DATETIME_ADD(DATETIME_TRUNC(`bic_last`, DAY), INTERVAL 1 DAY) AS `bic_end`,
    DATETIME_SUB(`bic_period`, INTERVAL 1 YEAR) AS `bic_previous`,
    DATETIME_ADD(DATETIME_SUB(DATETIME_TRUNC(`bic_last`, DAY), INTERVAL 1 YEAR), INTERVAL 1 DAY) AS `bic_previous_end`
  FROM `bic_latest`
),
`bic_periods` AS (
  SELECT
    CASE WHEN DATETIME((ordered_at), 'Europe/Berlin') >= `bic_bounds`.`bic_period` THEN 'current' ELSE 'previous' END AS `bic_side`,
    count(*) AS `orders`
  FROM orders
  CROSS JOIN `bic_bounds`
  WHERE (status) IN (@p4, @p5, @p6)
    AND ((DATETIME((ordered_at), 'Europe/Berlin') >= `bic_bounds`.`bic_period` AND DATETIME((ordered_at), 'Europe/Berlin') < `bic_bounds`.`bic_end`) OR (DATETIME((ordered_at), 'Europe/Berlin') >= `bic_bounds`.`bic_previous` AND DATETIME((ordered_at), 'Europe/Berlin') < `bic_bounds`.`bic_previous_end`))
  GROUP BY 1
)
SELECT
  `bic_bounds`.`bic_period` AS `ordered_at`,
  `cur`.`orders` AS `orders`,
  `prev`.`orders` AS `orders_previous`
FROM `bic_bounds`
JOIN `bic_periods` AS `cur` ON `cur`.`bic_side` = 'current'
LEFT JOIN `bic_periods` AS `prev` ON `prev`.`bic_side` = 'previous'
-- args: ["completed","pending","shipped","completed","pending","shipped"]
