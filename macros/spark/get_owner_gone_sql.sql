{%- macro spark__get_owner_gone_sql(run_id_column, liveness_column) -%}
    {#- Spark: a heartbeating owner is gone when its last beat is older than the timeout. -#}
    {{ etl_session._spark_owner_gone(run_id_column, liveness_column) }}
{%- endmacro -%}
