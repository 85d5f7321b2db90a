{%- macro get_etl_period_sql(arg_dict) -%}
    {#-
        The etl_period incremental strategy: delete the target's rows in the session's period,
        then insert the new rows of that period. dbt runs both in the model's transaction, so a
        reload is atomic where the adapter has transactions. Wired from the root project with
        the one-line shim get_incremental_etl_period_sql (README: "The etl_period strategy").
    -#}
    {{ return(adapter.dispatch('get_etl_period_sql', 'etl_session')(arg_dict)) }}
{%- endmacro -%}

{%- macro default__get_etl_period_sql(arg_dict) -%}
    {%- set settings = etl_session._period_config("incremental_strategy='etl_period'") -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {#- dest_columns are the target's columns: the period column's real type comes from them. -#}
    {%- set kind = etl_session._period_kind(settings, arg_dict['dest_columns'], target_relation) -%}
    {{ return(etl_session.get_replace_period_sql(
        target_relation,
        arg_dict['temp_relation'],
        arg_dict['dest_columns'],
        etl_session._period_filter_of(settings, kind),
        arg_dict.get('incremental_predicates'),
    )) }}
{%- endmacro -%}
