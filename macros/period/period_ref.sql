{%- macro period_ref(model_name, column=none, data_type=none, column_timezone=none) -%}
    {{ return(adapter.dispatch('period_ref', 'etl_session')(model_name, column, data_type, column_timezone)) }}
{%- endmacro -%}

{%- macro default__period_ref(model_name, column=none, data_type=none, column_timezone=none) -%}
    {#- A model already limited to the period, usable wherever a relation is (from, join, CTE).
        The column defaults to the model's event_time config; its type is read from the
        warehouse. ref() is called here, so dbt records the dependency as usual. -#}
    {%- do etl_session._guard_persisted('period_ref') -%}
    {%- set relation = ref(model_name) -%}
    {%- set node = etl_session._graph_node(['model', 'seed', 'snapshot'], model_name) -%}
    {{ return(etl_session._period_relation(relation, node, "period_ref('" ~ model_name ~ "')", column, data_type, column_timezone)) }}
{%- endmacro -%}
