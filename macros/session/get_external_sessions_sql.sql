{%- macro get_external_sessions_sql(relation, project, target_name) -%}
    {{ return(adapter.dispatch('get_external_sessions_sql', 'etl_session')(relation, project, target_name)) }}
{%- endmacro -%}

{%- macro default__get_external_sessions_sql(relation, project, target_name) -%}
    {#- The running sessions of a project and target that were opened by etl-session open
        (liveness 'external'): no process holds them, so they are never taken for dead. -#}
    select session_id, run_id
    from {{ relation }}
    where coalesce(project, source) = {{ etl_session._string(project) }}
      and target = {{ etl_session._string(target_name) }}
      and status = 'running'
      and liveness = 'external'
    order by session_id
{%- endmacro -%}
