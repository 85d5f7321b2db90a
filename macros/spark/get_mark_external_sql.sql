{%- macro spark__get_mark_external_sql(relation, session_id, command) -%}
    {#- Spark: sessions that span several dbt invocations (etl-session open) are not available
        yet: refused before anything else is written. -#}
    {{ exceptions.raise_compiler_error(
        "etl_session: sessions that span several dbt invocations (etl-session open) are not "
        ~ "supported on Spark yet; load with etl-run, one invocation per session") }}
{%- endmacro -%}
