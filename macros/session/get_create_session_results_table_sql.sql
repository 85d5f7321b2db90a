{%- macro get_create_session_results_table_sql(relation) -%}
    {{ return(adapter.dispatch('get_create_session_results_table_sql', 'etl_session')(relation)) }}
{%- endmacro -%}

{%- macro default__get_create_session_results_table_sql(relation) -%}
    create table if not exists {{ relation }} (
        session_id {{ dbt.type_bigint() }} not null,
        node_id {{ dbt.type_string() }} not null,
        resource_type {{ dbt.type_string() }},
        status {{ dbt.type_string() }} not null,
        rows_affected {{ dbt.type_bigint() }},
        execution_time {{ dbt.type_float() }},
        message {{ dbt.type_string() }},
        primary key (session_id, node_id)
    )
{%- endmacro -%}

{%- macro postgres__get_create_session_results_table_sql(relation) -%}
    {#- Postgres: the same advisory lock as the sessions table, for racing first runs. -#}
    select pg_advisory_xact_lock(hashtext('etl_session:' || {{ etl_session._string(relation | string) }}));
    {{ etl_session.default__get_create_session_results_table_sql(relation) }}
{%- endmacro -%}
