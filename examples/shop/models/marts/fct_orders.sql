{{ config(materialized='etl_period',
                  etl_period_column='ordered_at') }}

-- One row per order of the period. A load replaces exactly the orders of its period and stamps
-- them with its session_id; orders of other periods are left alone.
with orders as (
    -- The staging view stays whole; the period is applied here, where this model reads it:
    -- (select * from stg_orders where ordered_at >= <start> and ordered_at < <end>).
    select * from {{ etl_session.period_ref('stg_orders') }} as o
),

payments as (
    -- Payments follow their order, not the clock: an order placed at 23:59 may be paid after
    -- midnight, in the next period. So take every payment of this period's orders.
    select
        order_id,
        count(*) as payment_attempts,
        sum(case when status = 'failed' then 1 else 0 end) as failed_payments,
        sum(case when status in ('success', 'refunded') then amount else 0 end) as amount_paid,
        sum(case when status = 'refunded' then amount else 0 end) as amount_refunded
    from {{ ref('stg_payments') }}
    where order_id in (select order_id from orders)
    group by order_id
)

select
    {{ etl_session.session_id() }} as session_id,
    o.order_id,
    o.customer_id,
    o.status,
    o.ordered_at,
    coalesce(p.payment_attempts, 0) as payment_attempts,
    coalesce(p.failed_payments, 0) as failed_payments,
    coalesce(p.amount_paid, 0) as amount_paid,
    coalesce(p.amount_refunded, 0) as amount_refunded,
    coalesce(p.amount_paid, 0) - coalesce(p.amount_refunded, 0) as revenue
from orders as o
left join payments as p on p.order_id = o.order_id
