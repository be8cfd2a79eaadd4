WITH "periods" AS (
  SELECT
    date_trunc('month', ordered_at) AS "ordered_at",
    count(*) AS "orders"
  FROM orders
  WHERE (status) IN ($1, $2, $3)
  GROUP BY 1
)
SELECT
  "cur"."ordered_at" AS "ordered_at",
  "cur"."orders" AS "orders",
  "prev"."orders" AS "orders_previous"
FROM "periods" AS "cur"
LEFT JOIN "periods" AS "prev" ON "prev"."ordered_at" = "cur"."ordered_at" - INTERVAL '1 year'
WHERE "cur"."ordered_at" IS NOT NULL
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: ["pending","shipped","completed"]
