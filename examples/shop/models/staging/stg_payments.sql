-- Every payment attempt, renamed and typed: a view everyone may read, so it holds no period.
select
    id as payment_id,
    order_id,
    payment_method,
    status,
    amount,
    created_at
from {{ ref('raw_payments') }}
