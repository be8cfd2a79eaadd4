SELECT
  'current' AS `window`,
  sum(amount) AS `revenue`
FROM orders
WHERE (status) NOT IN (@p1, @p2)
  AND DATETIME((ordered_at), 'Europe/Berlin') >= CAST(@p3 AS DATETIME)
  AND DATETIME((ordered_at), 'Europe/Berlin') < CAST(@p4 AS DATETIME)
UNION ALL
SELECT
  'previous' AS `window`,
  sum(amount) AS `revenue`
FROM orders
WHERE (status) NOT IN (@p5, @p6)
  AND DATETIME((ordered_at), 'Europe/Berlin') >= CAST(@p7 AS DATETIME)
  AND DATETIME((ordered_at), 'Europe/Berlin') < CAST(@p8 AS DATETIME)
-- args: ["cancelled","returned","2026-01-05 00:00:00","2026-01-12 00:00:00","cancelled","returned","2025-12-29 00:00:00","2026-01-05 00:00:00"]
