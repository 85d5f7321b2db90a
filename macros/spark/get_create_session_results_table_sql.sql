{%- macro spark__get_create_session_results_table_sql(relation) -%}
    {#- Spark: no primary keys; rows are only ever appended. -#}
    create table if not exists {{ relation }} (
        session_id bigint,
        node_id string,
        resource_type string,
        status string,
        rows_affected bigint,
        execution_time double,
        message string
    ) using parquet
{%- endmacro -%}
