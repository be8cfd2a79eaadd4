SELECT
  sum(discount) / nullif(sum(amount + discount), 0) AS `discount_rate`
FROM orders
WHERE (status) IN (@p1, @p2, @p3)
  AND DATETIME((ordered_at), 'Europe/Berlin') >= CAST(@p4 AS DATETIME)
  AND DATETIME((ordered_at), 'Europe/Berlin') < CAST(@p5 AS DATETIME)
LIMIT 10000
-- args: ["completed","pending","shipped","2025-01-01 00:00:00","2026-01-01 00:00:00"]
