SELECT
  date_trunc('month', ordered_at) AS "ordered_at",
  channel AS "channel",
  sum(amount) AS "revenue"
FROM orders
WHERE (status) IN ($1, $2, $3)
GROUP BY 1, 2
ORDER BY 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: ["completed","pending","shipped"]
