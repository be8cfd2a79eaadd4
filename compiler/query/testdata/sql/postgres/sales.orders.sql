WITH "bic_latest" AS (
  SELECT
    date_trunc('month', ordered_at) AS "bic_period",
    max(ordered_at) AS "bic_last"
  FROM orders
  WHERE (status) IN ($1, $2, $3)
    AND (ordered_at) IS NOT NULL
  GROUP BY 1
  ORDER BY 1 DESC NULLS LAST
  LIMIT 1
),
"bic_bounds" AS (
  SELECT
    "bic_period",
    date_trunc('day', "bic_last") + INTERVAL '1 day' AS "bic_end",
    "bic_period" - INTERVAL '1 year' AS "bic_previous",
    date_trunc('day', "bic_last") - INTERVAL '1 year' + INTERVAL '1 day' AS "bic_previous_end"
  FROM "bic_latest"
),
"bic_periods" AS (
  SELECT
    CASE WHEN (ordered_at) >= "bic_bounds"."bic_period" THEN 'current' ELSE 'previous' END AS "bic_side",
    count(*) AS "orders"
  FROM orders
  CROSS JOIN "bic_bounds"
  WHERE (status) IN ($4, $5, $6)
    AND (((ordered_at) >= "bic_bounds"."bic_period" AND (ordered_at) < "bic_bounds"."bic_end") OR ((ordered_at) >= "bic_bounds"."bic_previous" AND (ordered_at) < "bic_bounds"."bic_previous_end"))
  GROUP BY 1
)
SELECT
  "bic_bounds"."bic_period" AS "ordered_at",
  "cur"."orders" AS "orders",
  "prev"."orders" AS "orders_previous"
FROM "bic_bounds"
JOIN "bic_periods" AS "cur" ON "cur"."bic_side" = 'current'
LEFT JOIN "bic_periods" AS "prev" ON "prev"."bic_side" = 'previous'
-- args: ["completed","pending","shipped","completed","pending","shipped"]
