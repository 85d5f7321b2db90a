{%- macro spark__get_coverage_results_sql(sessions, results, source, target_name, node_ids) -%}
    {#- Spark: refreshed before reading what other processes appended. -#}
    {{ etl_session._spark_refresh_sql() }}
    {{ etl_session.default__get_coverage_results_sql(sessions, results, source, target_name, node_ids) }}
{%- endmacro -%}
