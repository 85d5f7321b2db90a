{%- macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz', 'etl_session')()) }}
{%- endmacro -%}

{%- macro default__type_timestamptz() -%}
    {{ return('timestamp with time zone') }}
{%- endmacro -%}
