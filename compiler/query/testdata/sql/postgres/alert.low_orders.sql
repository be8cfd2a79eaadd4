SELECT
  'current' AS "window",
  count(*) AS "orders"
FROM orders
WHERE (ordered_at) >= CAST($1 AS timestamp)
  AND (ordered_at) < CAST($2 AS timestamp)
UNION ALL
SELECT
  'previous' AS "window",
  count(*) AS "orders"
FROM orders
WHERE (ordered_at) >= CAST($3 AS timestamp)
  AND (ordered_at) < CAST($4 AS timestamp)
-- args: ["2026-01-14 00:00:00","2026-01-15 00:00:00","2026-01-13 00:00:00","2026-01-14 00:00:00"]
