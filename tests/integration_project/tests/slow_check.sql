{{ config(enabled=var('with_slow_check', false)) }}
{% if target.type == 'postgres' %}
select 1 as failure where pg_sleep({{ var('slow_seconds', 6) }}) is null
{% else %}
select 1 as failure from (select sum(hash(r.range)) as s from range({{ var('slow_rows', 1000000000) }}) as r) where s is null
{% endif %}
