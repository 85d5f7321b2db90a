{{ config(enabled=var('with_slow'), materialized='table') }}
{% if target.type == 'postgres' %}
select pg_sleep({{ var('slow_seconds', 120) }}) is null as slept
{% else %}
select sum(hash(r.range)) as n from range({{ var('slow_rows', 200000000000) }}) as r
{% endif %}
