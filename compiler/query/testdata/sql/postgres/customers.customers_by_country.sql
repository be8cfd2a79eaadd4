SELECT
  country AS "country",
  count(*) AS "customers",
  sum(case when order_count > 0 then 1 else 0 end) AS "buyers",
  avg(case when order_count > 1 then 1.0 else 0 end) AS "repeat_rate",
  avg(order_count) AS "orders_per_customer",
  avg(spent) AS "lifetime_value"
FROM (
  select
    c.customer_id,
    c.signed_up_at,
    c.country,
    c.segment,
    c.acquisition_channel,
    coalesce(o.order_count, 0) as order_count,
    coalesce(o.spent, 0) as spent
  from customers c
  left join (
    select customer_id, count(*) as order_count, sum(amount) as spent
    from orders
    where status <> 'cancelled'
    group by customer_id
  ) o on o.customer_id = c.customer_id
) AS "source"
GROUP BY 1
ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST
LIMIT 10000
-- args: null
