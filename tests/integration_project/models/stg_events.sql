select id, occurred_at, amount
from {{ etl_session.period_source('raw', 'events', 'occurred_at') }} as e
