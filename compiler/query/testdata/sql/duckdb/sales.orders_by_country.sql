SELECT
  country AS "country",
  count(*) AS "orders"
FROM orders
WHERE (status) != $1
  AND (status) IN ($2, $3, $4)
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST
LIMIT 10
-- args: ["cancelled","completed","pending","shipped"]
