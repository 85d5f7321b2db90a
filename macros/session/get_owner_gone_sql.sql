{%- macro get_owner_gone_sql(run_id_column, liveness_column) -%}
    {{ return(adapter.dispatch('get_owner_gone_sql', 'etl_session')(run_id_column, liveness_column)) }}
{%- endmacro -%}

{%- macro default__get_owner_gone_sql(run_id_column, liveness_column) -%}
    {#- A condition on a sessions row: true when its owner is known to be gone. -#}
    {{ exceptions.raise_compiler_error(
        "etl_session.get_owner_gone_sql has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__get_owner_gone_sql (how the warehouse tells a live load)"
    ) }}
{%- endmacro -%}

{%- macro postgres__get_owner_gone_sql(run_id_column, liveness_column) -%}
    {#- Postgres: the owner holds a session-level advisory lock keyed by its run id (see
        get_owner_lock_sql); when no backend holds it, the owner is gone. Sessions without a
        lock (plain dbt) are never taken for dead. -#}
    ({{ liveness_column }} = 'lock' and not {{ etl_session._pg_owner_lock_held(run_id_column) }})
{%- endmacro -%}

{%- macro duckdb__get_owner_gone_sql(run_id_column, liveness_column) -%}
    {#- DuckDB: a file has one writer process at a time, and it is us: every other running
        session's owner is gone — except a shared session (`etl-session open`, liveness
        'external'), which no process holds between its invocations and which only a close ends. -#}
    (coalesce({{ liveness_column }}, '') <> 'external')
{%- endmacro -%}
