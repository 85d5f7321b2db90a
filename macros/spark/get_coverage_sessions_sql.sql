{%- macro spark__get_coverage_sessions_sql(sessions, source, target_name) -%}
    {#- Spark: refreshed, timestamps as UTC. -#}
    {{ etl_session._spark_refresh_sql() }}
    select session_id, status, {{ etl_session._spark_utc('period_start') }} as period_start,
        {{ etl_session._spark_utc('period_end') }} as period_end,
        {{ etl_session._spark_utc('started') }} as started, full_refresh
    from {{ sessions }}
    where source = {{ etl_session._string(source) }}
      and target = {{ etl_session._string(target_name) }}
    order by started, session_id
{%- endmacro -%}
