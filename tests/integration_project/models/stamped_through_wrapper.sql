{{ config(enabled=var('with_wrapper_stamp', false), materialized='incremental',
          incremental_strategy='etl_period', etl_period_column='occurred_at') }}
-- Stamps its rows through a macro of the project's own (etl_it_stamp), not session_id() itself.
select {{ etl_it_stamp() }} as session_id, e.id, e.occurred_at
from {{ etl_session.period_source('raw', 'events') }} as e
