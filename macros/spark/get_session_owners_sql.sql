{%- macro spark__get_session_owners_sql(relation, session_id=none) -%}
    {#- Spark: alive while it heartbeats, dead after the timeout, unknown without heartbeats. -#}
    {{ etl_session._spark_refresh_sql() }}
    select s.session_id, s.run_id,
        case
            when {{ etl_session._spark_owner_gone('s.run_id', 's.liveness') }} then 'dead'
            when s.liveness = 'heartbeat' then 'alive'
            else 'unknown'
        end as owner
    from {{ relation }} as s
    where s.status = 'running'
    {%- if session_id is not none %}
      and s.session_id = {{ etl_session._number(session_id) }}
    {%- endif %}
    order by s.session_id
{%- endmacro -%}
