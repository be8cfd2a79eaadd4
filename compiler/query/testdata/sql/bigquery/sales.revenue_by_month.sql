SELECT
  DATETIME_TRUNC(DATETIME(ordered_at, 'Europe/Berlin'), MONTH) AS `ordered_at`,
  channel AS `channel`,
  sum(amount) AS `revenue`
FROM orders
WHERE (status) IN (@p1, @p2, @p3)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: ["completed","pending","shipped"]
