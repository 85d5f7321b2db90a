{%- macro get_coverage_sessions_sql(sessions, source, target_name) -%}
    {{ return(adapter.dispatch('get_coverage_sessions_sql', 'etl_session')(sessions, source, target_name)) }}
{%- endmacro -%}

{%- macro default__get_coverage_sessions_sql(sessions, source, target_name) -%}
    {#- Every load of `source` on this target, oldest first: what coverage paints, in order. -#}
    select session_id, status, period_start, period_end, started, full_refresh
    from {{ sessions }}
    where source = {{ etl_session._string(source) }}
      and target = {{ etl_session._string(target_name) }}
    order by started, session_id
{%- endmacro -%}
