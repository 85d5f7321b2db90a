-- A dimension: every customer, whatever the period (facts of any period point at it).
select
    id as customer_id,
    first_name,
    last_name,
    email,
    country,
    created_at
from {{ ref('raw_customers') }}
