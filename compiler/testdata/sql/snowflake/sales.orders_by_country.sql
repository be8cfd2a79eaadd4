SELECT
  country AS "country",
  count(*) AS "orders"
FROM orders
WHERE (status) != ?
  AND (status) IN (?, ?, ?)
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 10
-- args: ["cancelled","pending","shipped","completed"]
