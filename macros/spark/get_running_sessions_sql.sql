{%- macro spark__get_running_sessions_sql(relation, project, target_name) -%}
    {#- Spark: refreshed, timestamps as UTC. -#}
    {{ etl_session._spark_refresh_sql() }}
    select s.session_id, s.run_id, s.runner_host, s.runner_pid,
        {{ etl_session._spark_utc('s.period_start') }}, {{ etl_session._spark_utc('s.period_end') }},
        {{ etl_session._spark_utc('s.started') }}, s.liveness
    from {{ relation }} as s
    where coalesce(s.project, s.source) = {{ etl_session._string(project) }}
      and s.target = {{ etl_session._string(target_name) }}
      and s.status = 'running'
    order by s.session_id
{%- endmacro -%}
