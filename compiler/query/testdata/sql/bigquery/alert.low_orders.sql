SELECT
  'current' AS `window`,
  count(*) AS `orders`
FROM orders
WHERE DATETIME((ordered_at), 'Europe/Berlin') >= CAST(@p1 AS DATETIME)
  AND DATETIME((ordered_at), 'Europe/Berlin') < CAST(@p2 AS DATETIME)
UNION ALL
SELECT
  'previous' AS `window`,
  count(*) AS `orders`
FROM orders
WHERE DATETIME((ordered_at), 'Europe/Berlin') >= CAST(@p3 AS DATETIME)
  AND DATETIME((ordered_at), 'Europe/Berlin') < CAST(@p4 AS DATETIME)
-- args: ["2026-01-14 00:00:00","2026-01-15 00:00:00","2026-01-13 00:00:00","2026-01-14 00:00:00"]
