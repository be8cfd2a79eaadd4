SELECT
  extract(dow from ordered_at) AS `weekday`,
  extract(hour from ordered_at) AS `hour`,
  count(*) AS `orders`
FROM orders
WHERE (status) IN (@p1, @p2, @p3)
GROUP BY 1, 2
ORDER BY 3 DESC NULLS LAST, 1 NULLS LAST, 2 NULLS LAST
LIMIT 10000
-- args: ["completed","pending","shipped"]
