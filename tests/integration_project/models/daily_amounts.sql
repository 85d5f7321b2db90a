select cast(occurred_at as date) as day, count(*) as events, sum(amount) as amount
from {{ ref('fct_events') }}
group by 1
