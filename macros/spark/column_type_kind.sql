{%- macro spark__column_type_kind(dtype) -%}
    {#- Spark: `timestamp` (and timestamp_ltz) is an instant, `timestamp_ntz` is naive. A query's
        columns come from PyHive as TIMESTAMP_TYPE, DATE_TYPE, ... -#}
    {%- set text = (dtype or '') | string | lower | trim -%}
    {%- if text.endswith('_type') -%}
        {%- set text = text[:-5] -%}
    {%- endif -%}
    {%- if text in ['timestamp', 'timestamp_ltz'] -%}
        {{ return('timestamptz') }}
    {%- endif -%}
    {{ return(etl_session.default__column_type_kind(text)) }}
{%- endmacro -%}
