{%- macro period_source(source_name, table_name, column, data_type='timestamp') -%}
    {{ return(adapter.dispatch('period_source', 'etl_session')(source_name, table_name, column, data_type)) }}
{%- endmacro -%}

{%- macro default__period_source(source_name, table_name, column, data_type='timestamp') -%}
    {#- A source already limited to the period, usable wherever a relation is (from, join, CTE). -#}
    {{ return(
        '(select * from ' ~ source(source_name, table_name) ~ ' where '
        ~ etl_session.period_filter(column, data_type) ~ ')'
    ) }}
{%- endmacro -%}
