SELECT
  sum(discount) / nullif(sum(amount + discount), 0) AS "discount_rate"
FROM orders
WHERE (status) IN ($1, $2, $3)
  AND (ordered_at) >= CAST($4 AS timestamp)
  AND (ordered_at) < CAST($5 AS timestamp)
LIMIT 10000
-- args: ["completed","pending","shipped","2025-01-01 00:00:00","2026-01-01 00:00:00"]
