SELECT
  avg(amount) AS "average_order_value"
FROM orders
WHERE (status) IN ($1, $2, $3)
LIMIT 10000
-- args: ["completed","pending","shipped"]
