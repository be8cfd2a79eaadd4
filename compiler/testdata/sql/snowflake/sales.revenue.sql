WITH "periods" AS (
  SELECT
    DATE_TRUNC('MONTH', ordered_at) AS "ordered_at",
    sum(amount) AS "revenue"
  FROM orders
  WHERE (status) IN (?, ?, ?)
  GROUP BY 1
)
SELECT
  "cur"."ordered_at" AS "ordered_at",
  "cur"."revenue" AS "revenue",
  "prev"."revenue" AS "revenue_previous"
FROM "periods" AS "cur"
LEFT JOIN "periods" AS "prev" ON "prev"."ordered_at" = DATEADD(MONTH, -1, "cur"."ordered_at")
WHERE "cur"."ordered_at" IS NOT NULL
ORDER BY 1 DESC NULLS LAST
LIMIT 1
-- args: ["pending","shipped","completed"]
