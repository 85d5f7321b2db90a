{{ config(enabled=var('with_failure')) }}
select * from {{ ref('fct_events') }} join no_such_table_etl_it on true
