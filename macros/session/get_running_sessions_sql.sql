{%- macro get_running_sessions_sql(relation, project, target_name) -%}
    {{ return(adapter.dispatch('get_running_sessions_sql', 'etl_session')(relation, project, target_name)) }}
{%- endmacro -%}

{%- macro default__get_running_sessions_sql(relation, project, target_name) -%}
    {#- The running sessions of a project (sessions of 0.1 have only a source) and target. -#}
    select session_id, run_id, runner_host, runner_pid, period_start, period_end, started, liveness
    from {{ relation }}
    where coalesce(project, source) = {{ etl_session._string(project) }}
      and target = {{ etl_session._string(target_name) }}
      and status = 'running'
    order by session_id
{%- endmacro -%}
