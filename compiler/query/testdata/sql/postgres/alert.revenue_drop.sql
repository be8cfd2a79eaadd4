SELECT
  'current' AS "window",
  sum(amount) AS "revenue"
FROM orders
WHERE (status) NOT IN ($1, $2)
  AND (ordered_at) >= CAST($3 AS timestamp)
  AND (ordered_at) < CAST($4 AS timestamp)
UNION ALL
SELECT
  'previous' AS "window",
  sum(amount) AS "revenue"
FROM orders
WHERE (status) NOT IN ($5, $6)
  AND (ordered_at) >= CAST($7 AS timestamp)
  AND (ordered_at) < CAST($8 AS timestamp)
-- args: ["cancelled","returned","2026-01-05 00:00:00","2026-01-12 00:00:00","cancelled","returned","2025-12-29 00:00:00","2026-01-05 00:00:00"]
