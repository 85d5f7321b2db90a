{{ config(enabled=var('with_failing_test')) }}
select * from {{ ref('fct_events') }} where amount <= 0
