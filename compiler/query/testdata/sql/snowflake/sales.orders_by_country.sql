SELECT
  country AS "country",
  count(*) AS "orders"
FROM orders
WHERE (status) != ?
  AND (status) IN (?, ?, ?)
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST
LIMIT 10
-- args: ["cancelled","completed","pending","shipped"]
