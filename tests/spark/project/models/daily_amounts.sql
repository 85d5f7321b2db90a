{{ config(
    materialized='etl_period',
    etl_period_column='day',
    partition_by=['month'],
    pre_hook="{{ spark_it_pause() }}",
) }}
select
    {{ etl_session.session_id() }} as session_id,
    to_date(e.event_time) as day,
    date_format(e.event_time, 'yyyy-MM') as month,
    count(*) as events,
    sum(e.amount) as amount
from {{ etl_session.period_source('raw', 'events') }} as e
group by to_date(e.event_time), date_format(e.event_time, 'yyyy-MM')
