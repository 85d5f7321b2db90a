{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at', etl_period_begin=var('fct_events_begin', none),
          post_hook=["{{ 'select * from no_such_table_in_a_post_hook' if var('with_failing_post_hook', false) else '' }}",
                     "{{ etl_it_pause_in_transaction() }}"]) }}
-- The source limited to the period (its event_time, occurred_at, says which column).
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
from {{ etl_session.period_source('raw', 'events') }} as e
