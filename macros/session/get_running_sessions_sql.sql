{%- macro get_running_sessions_sql(relation, source, target_name) -%}
    {{ return(adapter.dispatch('get_running_sessions_sql', 'etl_session')(relation, source, target_name)) }}
{%- endmacro -%}

{%- macro default__get_running_sessions_sql(relation, source, target_name) -%}
    select session_id, run_id, runner_host, runner_pid, period_start, period_end, started
    from {{ relation }}
    where source = {{ etl_session._string(source) }}
      and target = {{ etl_session._string(target_name) }}
      and status = 'running'
    order by session_id
{%- endmacro -%}
