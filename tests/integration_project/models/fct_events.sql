{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='occurred_at') }}
select {{ etl_session.session_id() }} as session_id, e.id, e.occurred_at, e.amount
from {{ source('raw', 'events') }} as e
where {{ etl_session.period_filter('e.occurred_at') }}
