{%- macro spark__get_session_by_run_id_sql(relation, run_id) -%}
    {#- Spark: refreshed, the period as UTC. -#}
    {{ etl_session._spark_refresh_sql() }}
    select session_id, status, liveness, {{ etl_session._spark_utc('period_start') }} as period_start,
           {{ etl_session._spark_utc('period_end') }} as period_end, period_timezone, source,
           coalesce(project, source) as project, target, run_id
    from {{ relation }}
    where run_id = {{ etl_session._string(run_id) }}
{%- endmacro -%}
