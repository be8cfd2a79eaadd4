WITH `periods` AS (
  SELECT
    DATETIME_TRUNC(DATETIME(ordered_at, 'Europe/Berlin'), MONTH) AS `ordered_at`,
    count(*) AS `orders`
  FROM orders
  WHERE (status) IN (@p1, @p2, @p3)
  GROUP BY 1
)
SELECT
  `cur`.`ordered_at` AS `ordered_at`,
  `cur`.`orders` AS `orders`,
  `prev`.`orders` AS `orders_previous`
FROM `periods` AS `cur`
LEFT JOIN `periods` AS `prev` ON `prev`.`ordered_at` = DATETIME_SUB(`cur`.`ordered_at`, INTERVAL 1 YEAR)
WHERE `cur`.`ordered_at` IS NOT NULL
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: ["pending","shipped","completed"]
