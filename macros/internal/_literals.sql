{#- Safe literals: every value that reaches SQL text from outside goes through these. -#}

{%- macro _string(value) -%}
    {#- A quoted SQL string, or null. NUL bytes are dropped (Postgres rejects them in text). -#}
    {%- if value is none -%}
        {{ return('null') }}
    {%- endif -%}
    {%- set text = (value | string).replace('\x00', '') -%}
    {{ return("'" ~ dbt.escape_single_quotes(text) ~ "'") }}
{%- endmacro -%}


{%- macro _number(value) -%}
    {#- A numeric literal, or null for anything that is not a number. -#}
    {%- if value is number and value is not boolean -%}
        {{ return(value | string) }}
    {%- endif -%}
    {{ return('null') }}
{%- endmacro -%}


{%- macro _utc_text(instant) -%}
    {#- An aware datetime as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC, without an offset. -#}
    {{ return(instant.astimezone(modules.pytz.utc).replace(tzinfo=none).isoformat(sep=' ')) }}
{%- endmacro -%}
