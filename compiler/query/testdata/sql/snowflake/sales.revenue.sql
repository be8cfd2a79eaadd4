WITH "bic_latest" AS (
  SELECT
    DATE_TRUNC('MONTH', ordered_at) AS "bic_period",
    max(ordered_at) AS "bic_last"
  FROM orders
  WHERE (status) IN (?, ?, ?)
    AND (ordered_at) IS NOT NULL
  GROUP BY 1
  ORDER BY 1 DESC NULLS LAST
  LIMIT 1
),
"bic_bounds" AS (
  SELECT
    "bic_period",
    DATEADD(DAY, 1, DATE_TRUNC('DAY', "bic_last")) AS "bic_end",
    DATEADD(MONTH, -1, "bic_period") AS "bic_previous",
    DATEADD(DAY, 1, DATEADD(MONTH, -1, DATE_TRUNC('DAY', "bic_last"))) AS "bic_previous_end"
  FROM "bic_latest"
),
"bic_periods" AS (
  SELECT
    CASE WHEN (ordered_at) >= "bic_bounds"."bic_period" THEN 'current' ELSE 'previous' END AS "bic_side",
    sum(amount) AS "revenue"
  FROM orders
  CROSS JOIN "bic_bounds"
  WHERE (status) IN (?, ?, ?)
    AND (((ordered_at) >= "bic_bounds"."bic_period" AND (ordered_at) < "bic_bounds"."bic_end") OR ((ordered_at) >= "bic_bounds"."bic_previous" AND (ordered_at) < "bic_bounds"."bic_previous_end"))
  GROUP BY 1
)
SELECT
  "bic_bounds"."bic_period" AS "ordered_at",
  "cur"."revenue" AS "revenue",
  "prev"."revenue" AS "revenue_previous"
FROM "bic_bounds"
JOIN "bic_periods" AS "cur" ON "cur"."bic_side" = 'current'
LEFT JOIN "bic_periods" AS "prev" ON "prev"."bic_side" = 'previous'
-- args: ["completed","pending","shipped","completed","pending","shipped"]
