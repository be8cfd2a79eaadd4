SELECT
  avg(amount) AS `average_order_value`
FROM orders
WHERE (status) IN (@p1, @p2, @p3)
LIMIT 10000
-- args: ["completed","pending","shipped"]
