{%- macro spark__get_external_sessions_sql(relation, project, target_name) -%}
    {#- Spark: refreshed before reading what other processes appended. -#}
    {{ etl_session._spark_refresh_sql() }}
    {{ etl_session.default__get_external_sessions_sql(relation, project, target_name) }}
{%- endmacro -%}
