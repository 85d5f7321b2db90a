{%- macro get_epoch_microseconds_sql(expression) -%}
    {{ return(adapter.dispatch('get_epoch_microseconds_sql', 'etl_session')(expression)) }}
{%- endmacro -%}

{%- macro default__get_epoch_microseconds_sql(expression) -%}
    {#- A timestamp with time zone as whole microseconds since 1970-01-01T00:00Z (bigint). -#}
    cast(extract(epoch from {{ expression }}) * 1000000 as {{ dbt.type_bigint() }})
{%- endmacro -%}

{%- macro duckdb__get_epoch_microseconds_sql(expression) -%}
    epoch_us({{ expression }})
{%- endmacro -%}

{%- macro spark__get_epoch_microseconds_sql(expression) -%}
    unix_micros({{ expression }})
{%- endmacro -%}
