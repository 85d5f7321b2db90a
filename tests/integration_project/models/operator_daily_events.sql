{#- etl-session's tests: a model stamped with session ids whose period column is a date, so a
    cleanup must bound it by the local dates of the session's zone. -#}
{{ config(materialized='incremental', incremental_strategy='etl_period', etl_period_column='day',
          enabled=var('with_operator_daily', false)) }}
select {{ etl_session.session_id() }} as session_id, cast(e.occurred_at as date) as day, e.id
from {{ source('raw', 'events') }} as e
where {{ etl_session.period_filter('e.occurred_at') }}
