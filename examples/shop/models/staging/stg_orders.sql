-- Every order, renamed and typed: a view everyone may read, so it holds no period.
-- Period models read it limited to their period with etl_session.period_ref('stg_orders'),
-- which filters on its event_time (ordered_at, set in _staging.yml).
select
    id as order_id,
    customer_id,
    status,
    ordered_at
from {{ ref('raw_orders') }}
