WITH "periods" AS (
  SELECT
    date_trunc('month', ordered_at) AS "ordered_at",
    sum(amount) AS "revenue"
  FROM orders
  WHERE (status) IN ($1, $2, $3)
  GROUP BY 1
)
SELECT
  "cur"."ordered_at" AS "ordered_at",
  "cur"."revenue" AS "revenue",
  "prev"."revenue" AS "revenue_previous"
FROM "periods" AS "cur"
LEFT JOIN "periods" AS "prev" ON "prev"."ordered_at" = "cur"."ordered_at" - INTERVAL '1 month'
WHERE "cur"."ordered_at" IS NOT NULL
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: ["pending","shipped","completed"]
