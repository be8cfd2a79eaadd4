SELECT
  sum(discount) / nullif(sum(amount + discount), 0) AS "discount_rate"
FROM orders
WHERE (status) IN (?, ?, ?)
  AND (ordered_at) >= TO_TIMESTAMP_NTZ(?)
  AND (ordered_at) < TO_TIMESTAMP_NTZ(?)
LIMIT 10000
-- args: ["completed","pending","shipped","2025-01-01 00:00:00","2026-01-01 00:00:00"]
