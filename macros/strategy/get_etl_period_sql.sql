{%- macro get_etl_period_sql(arg_dict) -%}
    {#-
        The etl_period incremental strategy: delete the target's rows in the session's period,
        then insert the new rows of that period. dbt runs both in the model's transaction, so a
        reload is atomic where the adapter has transactions. Wire it from the root project with
        the one-line shim get_incremental_etl_period_sql (README: "The etl_period strategy").
    -#}
    {{ return(adapter.dispatch('get_etl_period_sql', 'etl_session')(arg_dict)) }}
{%- endmacro -%}

{%- macro default__get_etl_period_sql(arg_dict) -%}
    {%- set column = config.get('etl_period_column') -%}
    {%- set data_type = config.get('etl_period_data_type', 'timestamp') -%}
    {%- if not column -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ " uses incremental_strategy='etl_period' without etl_period_column: "
            ~ "add config(etl_period_column='<the column holding each row''s time>')"
        ) }}
    {%- endif -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set source_relation = arg_dict['temp_relation'] -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- set in_period = etl_session.period_filter(column, data_type) -%}
    {%- set predicates = arg_dict.get('incremental_predicates') or [] -%}

    delete from {{ target_relation }}
    where {{ in_period }}
    {%- for predicate in predicates %} and {{ predicate }}{% endfor %};

    {#- Rows outside the period are never inserted: the period is the unit that is replaced. #}
    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }}
    from {{ source_relation }}
    where {{ in_period }}
{%- endmacro -%}
