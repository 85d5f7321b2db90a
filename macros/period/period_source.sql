{%- macro period_source(source_name, table_name, column=none, data_type=none, column_timezone=none) -%}
    {{ return(adapter.dispatch('period_source', 'etl_session')(source_name, table_name, column, data_type, column_timezone)) }}
{%- endmacro -%}

{%- macro default__period_source(source_name, table_name, column=none, data_type=none, column_timezone=none) -%}
    {#- A source already limited to the period, usable wherever a relation is (from, join, CTE).
        The column defaults to the source table's event_time config; its type is read from the
        warehouse. source() is called here, so dbt records the dependency as usual. -#}
    {%- do etl_session._guard_persisted('period_source') -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set node = etl_session._graph_node(['source'], table_name, source_name) -%}
    {{ return(etl_session._period_relation(relation, node, "period_source('" ~ source_name ~ "', '" ~ table_name ~ "')", column, data_type, column_timezone)) }}
{%- endmacro -%}
