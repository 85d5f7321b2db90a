{%- macro get_ended_recently_sql(finished_column, seconds) -%}
    {{ return(adapter.dispatch('get_ended_recently_sql', 'etl_session')(finished_column, seconds)) }}
{%- endmacro -%}

{%- macro default__get_ended_recently_sql(finished_column, seconds) -%}
    {#- A condition on a sessions row: it ended within the last `seconds` seconds of the
        warehouse's clock (open_session: since this dbt invocation listed the relations). -#}
    ({{ finished_column }} >= {{ dbt.current_timestamp() }} - interval '{{ '%.3f' | format(seconds | float) }} seconds')
{%- endmacro -%}

{%- macro duckdb__get_ended_recently_sql(finished_column, seconds) -%}
    {#- DuckDB: one process writes a file at a time, and this invocation has held the file since
        before dbt listed its relations: no other load can have ended in between. -#}
    false
{%- endmacro -%}
