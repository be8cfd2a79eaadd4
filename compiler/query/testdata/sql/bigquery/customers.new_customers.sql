WITH `bic_latest` AS (
  SELECT
    DATETIME_TRUNC(DATETIME(signed_up_at, 'Europe/Berlin'), MONTH) AS `bic_period`,
    max(DATETIME(signed_up_at, 'Europe/Berlin')) AS `bic_last`
  FROM (
    select
      c.customer_id,
      c.signed_up_at,
      c.country,
      c.segment,
      c.acquisition_channel,
      coalesce(o.order_count, 0) as order_count,
      coalesce(o.spent, 0) as spent
    from customers c
    left join (
      select customer_id, count(*) as order_count, sum(amount) as spent
      from orders
      where status <> 'cancelled'
      group by customer_id
    ) o on o.customer_id = c.customer_id
  ) AS `source`
  WHERE DATETIME((signed_up_at), 'Europe/Berlin') IS NOT NULL
  GROUP BY 1
  ORDER BY 1 DESC NULLS LAST
  LIMIT 1
),
`bic_bounds` AS (
  SELECT
    `bic_period`,
    DATETIME_ADD(DATETIME_TRUNC(`bic_last`, DAY), INTERVAL 1 DAY) AS `bic_end`,
    DATETIME_SUB(`bic_period`, INTERVAL 1 MONTH) AS `bic_previous`,
    DATETIME_ADD(DATETIME_SUB(DATETIME_TRUNC(`bic_last`, DAY), INTERVAL 1 MONTH), INTERVAL 1 DAY) AS `bic_previous_end`
  FROM `bic_latest`
),
`bic_periods` AS (
  SELECT
    CASE WHEN DATETIME((signed_up_at), 'Europe/Berlin') >= `bic_bounds`.`bic_period` THEN 'current' ELSE 'previous' END AS `bic_side`,
    count(*) AS `customers`
  FROM (
    select
      c.customer_id,
      c.signed_up_at,
      c.country,
      c.segment,
      c.acquisition_channel,
      coalesce(o.order_count, 0) as order_count,
      coalesce(o.spent, 0) as spent
    from customers c
    left join (
      select customer_id, count(*) as order_count, sum(amount) as spent
      from orders
      where status <> 'cancelled'
      group by customer_id
    ) o on o.customer_id = c.customer_id
  ) AS `source`
  CROSS JOIN `bic_bounds`
  WHERE ((DATETIME((signed_up_at), 'Europe/Berlin') >= `bic_bounds`.`bic_period` AND DATETIME((signed_up_at), 'Europe/Berlin') < `bic_bounds`.`bic_end`) OR (DATETIME((signed_up_at), 'Europe/Berlin') >= `bic_bounds`.`bic_previous` AND DATETIME((signed_up_at), 'Europe/Berlin') < `bic_bounds`.`bic_previous_end`))
  GROUP BY 1
)
SELECT
  `bic_bounds`.`bic_period` AS `signed_up_at`,
  `cur`.`customers` AS `customers`,
  `prev`.`customers` AS `customers_previous`
FROM `bic_bounds`
JOIN `bic_periods` AS `cur` ON `cur`.`bic_side` = 'current'
LEFT JOIN `bic_periods` AS `prev` ON `prev`.`bic_side` = 'previous'
-- args: null
