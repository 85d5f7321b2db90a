{%- macro get_mark_external_sql(relation, session_id, command) -%}
    {{ return(adapter.dispatch('get_mark_external_sql', 'etl_session')(relation, session_id, command)) }}
{%- endmacro -%}

{%- macro default__get_mark_external_sql(relation, session_id, command) -%}
    {#- A running session opened by etl-session open: no process holds it (liveness
        'external'), and the command that opened it. -#}
    update {{ relation }}
    set liveness = 'external',
        dbt_command = {{ etl_session._string(command) }}
    where session_id = {{ etl_session._number(session_id) }}
      and status = 'running'
{%- endmacro -%}
