SELECT
  sum(discount) / nullif(sum(amount + discount), 0) AS "discount_rate"
FROM orders
WHERE (status) IN ($1, $2, $3)
LIMIT 10000
-- args: ["pending","shipped","completed"]
