{{ config(enabled=var('with_failure')) }}
select count(*) as n from {{ ref('broken') }}
