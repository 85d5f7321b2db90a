{%- macro spark__get_session_lookup_sql(relation, run_id) -%}
    {#- Spark: other processes append to the log; refresh before reading. -#}
    {{ etl_session._spark_refresh_sql() }}
    select session_id, status
    from {{ relation }}
    where run_id = {{ etl_session._string(run_id) }}
{%- endmacro -%}
