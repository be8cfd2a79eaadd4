SELECT
  avg(case when order_count > 1 then 1.0 else 0 end) AS `repeat_rate`
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
) AS `source`
LIMIT 10000
-- args: null
