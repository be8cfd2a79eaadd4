WITH "bic_latest" AS (
  SELECT
    date_trunc('month', signed_up_at) AS "bic_period",
    max(signed_up_at) AS "bic_last"
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
  ) AS "source"
  WHERE (signed_up_at) IS NOT NULL
  GROUP BY 1
  ORDER BY 1 DESC NULLS LAST
  LIMIT 1
),
"bic_bounds" AS (
  SELECT
    "bic_period",
    date_trunc('day', "bic_last") + INTERVAL '1 day' AS "bic_end",
    "bic_period" - INTERVAL '1 month' AS "bic_previous",
    date_trunc('day', "bic_last") - INTERVAL '1 month' + INTERVAL '1 day' AS "bic_previous_end"
  FROM "bic_latest"
),
"bic_periods" AS (
  SELECT
    CASE WHEN (signed_up_at) >= "bic_bounds"."bic_period" THEN 'current' ELSE 'previous' END AS "bic_side",
    count(*) AS "customers"
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
  ) AS "source"
  CROSS JOIN "bic_bounds"
  WHERE (((signed_up_at) >= "bic_bounds"."bic_period" AND (signed_up_at) < "bic_bounds"."bic_end") OR ((signed_up_at) >= "bic_bounds"."bic_previous" AND (signed_up_at) < "bic_bounds"."bic_previous_end"))
  GROUP BY 1
)
SELECT
  "bic_bounds"."bic_period" AS "signed_up_at",
  "cur"."customers" AS "customers",
  "prev"."customers" AS "customers_previous"
FROM "bic_bounds"
JOIN "bic_periods" AS "cur" ON "cur"."bic_side" = 'current'
LEFT JOIN "bic_periods" AS "prev" ON "prev"."bic_side" = 'previous'
-- args: null
