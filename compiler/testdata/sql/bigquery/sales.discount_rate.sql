SELECT
  sum(discount) / nullif(sum(amount + discount), 0) AS `discount_rate`
FROM orders
WHERE (status) IN (@p1, @p2, @p3)
LIMIT 10000
-- args: ["pending","shipped","completed"]
