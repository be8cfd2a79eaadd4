WITH "periods" AS (
  SELECT
    date_trunc('month', signed_up_at) AS "signed_up_at",
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
  GROUP BY 1
)
SELECT
  "cur"."signed_up_at" AS "signed_up_at",
  "cur"."customers" AS "customers",
  "prev"."customers" AS "customers_previous"
FROM "periods" AS "cur"
LEFT JOIN "periods" AS "prev" ON "prev"."signed_up_at" = "cur"."signed_up_at" - INTERVAL '1 month'
WHERE "cur"."signed_up_at" IS NOT NULL
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: null
