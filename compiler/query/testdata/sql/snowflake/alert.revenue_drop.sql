SELECT
  'current' AS "window",
  sum(amount) AS "revenue"
FROM orders
WHERE (status) NOT IN (?, ?)
  AND (ordered_at) >= TO_TIMESTAMP_NTZ(?)
  AND (ordered_at) < TO_TIMESTAMP_NTZ(?)
UNION ALL
SELECT
  'previous' AS "window",
  sum(amount) AS "revenue"
FROM orders
WHERE (status) NOT IN (?, ?)
  AND (ordered_at) >= TO_TIMESTAMP_NTZ(?)
  AND (ordered_at) < TO_TIMESTAMP_NTZ(?)
-- args: ["cancelled","returned","2026-01-05 00:00:00","2026-01-12 00:00:00","cancelled","returned","2025-12-29 00:00:00","2026-01-05 00:00:00"]
