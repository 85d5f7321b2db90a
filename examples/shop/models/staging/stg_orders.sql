-- Only the orders placed in the session's period: start <= ordered_at < end.
select
    id as order_id,
    customer_id,
    status,
    ordered_at
from {{ ref('raw_orders') }}
where {{ etl_session.period_filter('ordered_at') }}
