{{ config(materialized='incremental', incremental_strategy='etl_period',
          etl_period_column='order_date', etl_period_data_type='date') }}

-- One row per day of the period. The strategy replaces the period's days:
-- order_date >= cast('2023-05-01' as date) and order_date < cast('2023-06-01' as date).
select
    {{ etl_session.session_id() }} as session_id,
    cast(ordered_at as date) as order_date,
    count(*) as orders,
    sum(case when status = 'returned' then 1 else 0 end) as returned_orders,
    sum(amount_paid) as amount_paid,
    sum(amount_refunded) as amount_refunded,
    sum(revenue) as revenue
from {{ ref('fct_orders') }}
where {{ etl_session.period_filter('ordered_at') }}
group by cast(ordered_at as date)
