-- Only the payments made in the session's period. Payments are taken at checkout, on the day of
-- their order, so they land in the same load as their order.
select
    id as payment_id,
    order_id,
    payment_method,
    status,
    amount,
    created_at
from {{ ref('raw_payments') }}
where {{ etl_session.period_filter('created_at') }}
