{{ config(enabled=var('with_slow'), materialized='table') }}
{#- slow_compile_loops: busy in Jinja first (about 0.05 s per loop), so the model thread runs no
    query for a while after dbt printed START: a cancel then has nothing to interrupt. -#}
{%- if execute -%}
    {%- for _ in range(var('slow_compile_loops', 0) | int) -%}{%- for _ in range(100000) -%}{%- endfor -%}{%- endfor -%}
{%- endif %}
{% if target.type == 'postgres' %}
select pg_sleep({{ var('slow_seconds', 120) }}) is null as slept
{% else %}
select sum(hash(r.range)) as n from range({{ var('slow_rows', 200000000000) }}) as r
{% endif %}
