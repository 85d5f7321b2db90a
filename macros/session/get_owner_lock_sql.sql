{%- macro get_owner_lock_sql(run_id) -%}
    {{ return(adapter.dispatch('get_owner_lock_sql', 'etl_session')(run_id)) }}
{%- endmacro -%}

{%- macro default__get_owner_lock_sql(run_id) -%}
    {#- The statement a load's owner (etl-run) runs on a connection it keeps open for the whole
        load, so that the warehouse knows it is alive. None: the adapter needs none. -#}
    {{ return(none) }}
{%- endmacro -%}

{%- macro postgres__get_owner_lock_sql(run_id) -%}
    {#- Postgres: a session-level advisory lock keyed by the run id; it is released when the
        owner's connection ends, however the owner ends (exit, SIGKILL, a lost machine). -#}
    {{ return('select pg_advisory_lock(hashtextextended(' ~ etl_session._string(run_id) ~ ', 0))') }}
{%- endmacro -%}

{%- macro duckdb__get_owner_lock_sql(run_id) -%}
    {#- DuckDB: one process holds the file; that lock already tells who is alive. -#}
    {{ return(none) }}
{%- endmacro -%}
