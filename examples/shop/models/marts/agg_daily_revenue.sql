{{ config(materialized='etl_period',
                  etl_period_column='order_date', etl_period_data_type='date') }}

-- One row per day of the period. A day is a calendar day in the zone the period is stated in
-- (UTC unless etl-run --timezone says otherwise), the same days the materialization replaces:
-- with --timezone Europe/Berlin, May is order_date >= '2023-05-01' and < '2023-06-01' in Berlin,
-- and an order at 2023-04-30 22:30 UTC (00:30 in Berlin) counts for May 1st.
-- ordered_at holds UTC: `at time zone 'UTC'` makes it an instant, `at time zone <zone>` the
-- local wall-clock time of that instant (Postgres and DuckDB alike).
-- The column is named although fct_orders declares event_time: dbt gives unit tests no graph,
-- and this model's unit test sets a period (models/marts/_unit_tests.yml).
select
    {{ etl_session.session_id() }} as session_id,
    cast((o.ordered_at at time zone 'UTC') at time zone {{ etl_session.period_timezone() }} as date) as order_date,
    count(*) as orders,
    sum(case when o.status = 'returned' then 1 else 0 end) as returned_orders,
    sum(o.amount_paid) as amount_paid,
    sum(o.amount_refunded) as amount_refunded,
    sum(o.revenue) as revenue
from {{ etl_session.period_ref('fct_orders', 'ordered_at') }} as o
group by 2
