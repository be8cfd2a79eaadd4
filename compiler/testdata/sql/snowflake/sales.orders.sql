WITH "periods" AS (
  SELECT
    DATE_TRUNC('MONTH', ordered_at) AS "ordered_at",
    count(*) AS "orders"
  FROM orders
  WHERE (status) IN (?, ?, ?)
  GROUP BY 1
)
SELECT
  "cur"."ordered_at" AS "ordered_at",
  "cur"."orders" AS "orders",
  "prev"."orders" AS "orders_previous"
FROM "periods" AS "cur"
LEFT JOIN "periods" AS "prev" ON "prev"."ordered_at" = DATEADD(YEAR, -1, "cur"."ordered_at")
WHERE "cur"."ordered_at" IS NOT NULL
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: ["pending","shipped","completed"]
