{%- macro get_owner_liveness_sql(run_id) -%}
    {{ return(adapter.dispatch('get_owner_liveness_sql', 'etl_session')(run_id)) }}
{%- endmacro -%}

{%- macro default__get_owner_liveness_sql(run_id) -%}
    {#- The `liveness` value of a new session row: how its owner's life can be checked. -#}
    cast(null as {{ dbt.type_string() }})
{%- endmacro -%}

{%- macro postgres__get_owner_liveness_sql(run_id) -%}
    {#- Postgres: 'lock' when the owner (etl-run) holds its advisory lock right now. -#}
    case when {{ etl_session._pg_owner_lock_held(etl_session._string(run_id)) }} then 'lock' end
{%- endmacro -%}

{%- macro duckdb__get_owner_liveness_sql(run_id) -%}
    {#- DuckDB: the file lock. -#}
    'file'
{%- endmacro -%}
