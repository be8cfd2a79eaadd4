SELECT
  avg(amount) AS "average_order_value"
FROM orders
WHERE (status) IN (?, ?, ?)
LIMIT 10000
-- args: ["completed","pending","shipped"]
