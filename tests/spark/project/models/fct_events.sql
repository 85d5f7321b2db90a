{{ config(
    materialized='etl_period',
    etl_period_column='event_time',
    partition_by=['event_date'],
) }}
select
    {{ etl_session.session_id() }} as session_id,
    e.event_id,
    e.event_time,
    e.amount,
    to_date(e.event_time) as event_date
from {{ etl_session.period_ref('stg_events') }} as e
