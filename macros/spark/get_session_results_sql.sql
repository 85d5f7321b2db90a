{%- macro spark__get_session_results_sql(relation, session_id) -%}
    {#- Spark: refreshed before reading what other processes appended. -#}
    {{ etl_session._spark_refresh_sql() }}
    {{ etl_session.default__get_session_results_sql(relation, session_id) }}
{%- endmacro -%}
