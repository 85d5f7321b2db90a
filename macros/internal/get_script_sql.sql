{%- macro get_script_sql(sql) -%}
    {#- Statements joined by ';' (as _execute receives them) as one request the adapter accepts. -#}
    {{ return(adapter.dispatch('get_script_sql', 'etl_session')(sql)) }}
{%- endmacro -%}

{%- macro default__get_script_sql(sql) -%}
    {#- Postgres and DuckDB run several statements in one request. -#}
    {{ return(sql) }}
{%- endmacro -%}
