{%- macro spark__get_script_sql(sql) -%}
    {#- Spark: one statement per request; several become one SQL script (BEGIN ... END, Spark
        4+ and Databricks), which returns the last statement's result. -#}
    {%- set body = sql | trim -%}
    {%- if body.endswith(';') -%}
        {%- set body = body[:-1] | trim -%}
    {%- endif -%}
    {%- if not modules.re.search(';\\s*\\n', body) -%}
        {{ return(body) }}
    {%- endif -%}
    {{ return('BEGIN\n' ~ body ~ ';\nEND') }}
{%- endmacro -%}
