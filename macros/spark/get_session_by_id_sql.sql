{%- macro spark__get_session_by_id_sql(relation, session_id) -%}
    {#- Spark: refreshed, timestamps as UTC. -#}
    {{ etl_session._spark_refresh_sql() }}
    select {{ etl_session._spark_session_columns('s') }}
    from {{ relation }} as s
    where s.session_id = {{ etl_session._number(session_id) }}
{%- endmacro -%}
