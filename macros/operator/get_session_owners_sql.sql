{%- macro get_session_owners_sql(relation, session_id=none) -%}
    {{ return(adapter.dispatch('get_session_owners_sql', 'etl_session')(relation, session_id)) }}
{%- endmacro -%}

{%- macro default__get_session_owners_sql(relation, session_id=none) -%}
    {#- Whether each running session's owner (the process that opened it) is `alive`, `dead` or
        `unknown`, by the rule the loads themselves use (get_owner_gone_sql): gone when the
        warehouse says so; alive while it holds its lock; unknown without one (plain dbt on
        Postgres), and then never closed automatically. -#}
    select s.session_id, s.run_id,
        case
            when {{ etl_session.get_owner_gone_sql('s.run_id', 's.liveness') }} then 'dead'
            when s.liveness = 'lock' then 'alive'
            else 'unknown'
        end as owner
    from {{ relation }} as s
    where s.status = 'running'
    {%- if session_id is not none %}
      and s.session_id = {{ etl_session._number(session_id) }}
    {%- endif %}
    order by s.session_id
{%- endmacro -%}
