SELECT
  product AS `product`,
  category AS `category`,
  brand AS `brand`,
  sum(quantity) AS `units`,
  sum(quantity * unit_price) AS `gross_revenue`,
  sum(quantity * (unit_price - cost)) AS `margin`,
  sum(quantity * (unit_price - cost)) / nullif(sum(quantity * unit_price), 0) AS `margin_rate`
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
WHERE (status) IN (@p1, @p2)
  AND (status) IN (@p3, @p4, @p5)
  AND DATETIME((ordered_at), 'Europe/Berlin') >= CAST(@p6 AS DATETIME)
  AND DATETIME((ordered_at), 'Europe/Berlin') < CAST(@p7 AS DATETIME)
GROUP BY 1, 2, 3
ORDER BY 5 DESC NULLS LAST, 1 NULLS LAST, 2 NULLS LAST, 3 NULLS LAST
LIMIT 20
-- args: ["shipped","completed","completed","pending","shipped","2025-10-01 00:00:00","2026-01-01 00:00:00"]
