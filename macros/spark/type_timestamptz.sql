{%- macro spark__type_timestamptz() -%}
    {#- Spark: `timestamp` is an instant (shown in the session time zone); there is no
        `timestamp with time zone`. -#}
    {{ return('timestamp') }}
{%- endmacro -%}
