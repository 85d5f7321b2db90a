{{ config(enabled=var('with_failure'), materialized='etl_period', etl_period_column='event_time', partition_by=['event_date']) }}
select
    {{ etl_session.session_id() }} as session_id,
    event_time,
    to_date(event_time) as event_date
from no_such_table_for_the_failure_test
