{%- macro spark__get_delete_session_results_sql(relation, session_id, node_ids) -%}
    {#- Spark: parquet cannot delete rows; only shared sessions (etl-session open, refused on
        Spark by get_mark_external_sql) replace earlier results. -#}
    {{ exceptions.raise_compiler_error(
        "etl_session: replacing a node's earlier result in session " ~ session_id ~ " needs DELETE, "
        ~ "which Spark's default tables (parquet) do not have") }}
{%- endmacro -%}
