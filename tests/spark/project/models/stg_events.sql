-- A plain view: it stays whole; the period applies where a period model reads it.
{{ config(event_time='event_time') }}
select event_id, event_time, amount
from {{ source('raw', 'events') }}
