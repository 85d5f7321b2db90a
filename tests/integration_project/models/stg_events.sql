-- A shared staging view: whole, whatever the period (period models read it through period_ref).
select id, occurred_at, amount
from {{ source('raw', 'events') }}
