{%- macro spark__get_last_session_end_sql(relation, source, target_name) -%}
    {#- Spark: refreshed, the end as UTC. -#}
    {{ etl_session._spark_refresh_sql() }}
    select {{ etl_session._spark_utc('max(period_end)') }}
    from {{ relation }}
    where source = {{ etl_session._string(source) }}
      and target = {{ etl_session._string(target_name) }}
      and status = 'success'
{%- endmacro -%}
