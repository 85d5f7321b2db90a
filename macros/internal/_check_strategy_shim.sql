{%- macro _check_strategy_shim() -%}
    {#-
        dbt looks incremental strategy macros up in the root project only. Fail before anything
        runs, with the fix, when a model uses etl_period and the root project has no shim.
    -#}
    {%- if get_incremental_etl_period_sql is defined -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.get('incremental_strategy') == 'etl_period' -%}
            {{ exceptions.raise_compiler_error(
                node.unique_id ~ " uses incremental_strategy='etl_period', but dbt only finds strategy "
                ~ "macros in the root project. Add macros/etl_period.sql to " ~ project_name ~ ": "
                ~ "{% macro get_incremental_etl_period_sql(arg_dict) %}"
                ~ "{{ return(etl_session.get_incremental_etl_period_sql(arg_dict)) }}{% endmacro %}"
                ~ " (or use materialized='etl_period', which needs no macro in your project)"
            ) }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro -%}
