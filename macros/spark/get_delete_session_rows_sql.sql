{%- macro spark__get_delete_session_rows_sql(relation, session_id, predicate=none) -%}
    {#- Spark: DELETE works on Delta and Iceberg tables only; Spark's default tables (parquet,
        Hive) cannot delete rows, so a cleanup there is refused with the reason. -#}
    {%- if relation.is_delta or relation.is_iceberg or relation.is_hudi -%}
        {{ return(etl_session.default__get_delete_session_rows_sql(relation, session_id, predicate)) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "etl_session: cannot delete session " ~ session_id ~ "'s rows from " ~ relation
        ~ ": it is not a Delta or Iceberg table, and Spark's default tables (parquet) cannot DELETE;"
        ~ " reload the session's period with etl-run instead (it replaces the period's partitions)") }}
{%- endmacro -%}
