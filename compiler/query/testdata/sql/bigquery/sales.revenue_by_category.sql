SELECT
  category AS `category`,
  sum(quantity * unit_price) AS `gross_revenue`
FROM (
  select
    oi.order_id,
    oi.quantity,
    oi.unit_price,
    p.name as product,
    p.category,
    p.brand,
    p.cost,
    o.ordered_at,
    o.status,
    o.channel,
    o.country
  from order_items oi
  join products p on p.product_id = oi.product_id
  join orders o on o.order_id = oi.order_id
) AS `source`
WHERE (status) IN (@p1, @p2, @p3)
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST
LIMIT 10000
-- args: ["completed","pending","shipped"]
