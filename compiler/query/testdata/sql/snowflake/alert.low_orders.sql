SELECT
  'current' AS "window",
  count(*) AS "orders"
FROM orders
WHERE (ordered_at) >= TO_TIMESTAMP_NTZ(?)
  AND (ordered_at) < TO_TIMESTAMP_NTZ(?)
UNION ALL
SELECT
  'previous' AS "window",
  count(*) AS "orders"
FROM orders
WHERE (ordered_at) >= TO_TIMESTAMP_NTZ(?)
  AND (ordered_at) < TO_TIMESTAMP_NTZ(?)
-- args: ["2026-01-14 00:00:00","2026-01-15 00:00:00","2026-01-13 00:00:00","2026-01-14 00:00:00"]
