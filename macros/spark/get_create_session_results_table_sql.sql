{%- macro spark__get_create_session_results_table_sql(relation) -%}
    {#- Spark: no primary keys; partitioned by session and batch (the first node id of a chunk of
        results) and written with dynamic partition overwrite, so concurrent writers never share
        a staging folder and writing a chunk twice keeps one copy. -#}
    create table if not exists {{ relation }} (
        node_id string,
        resource_type string,
        status string,
        rows_affected bigint,
        execution_time double,
        message string,
        session_id bigint,
        batch string
    ) using parquet
    partitioned by (session_id, batch)
    options ('partitionOverwriteMode' = 'dynamic')
{%- endmacro -%}
