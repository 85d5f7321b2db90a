{%- macro get_incremental_etl_period_sql(arg_dict) -%}
    {#-
        The name dbt's docs give a package's custom strategy, so that the root project's shim
        written as they say works: a root macro get_incremental_etl_period_sql(arg_dict) that
        returns etl_session.get_incremental_etl_period_sql(arg_dict). Same SQL as
        get_etl_period_sql.
    -#}
    {{ return(adapter.dispatch('get_incremental_etl_period_sql', 'etl_session')(arg_dict)) }}
{%- endmacro -%}

{%- macro default__get_incremental_etl_period_sql(arg_dict) -%}
    {{ return(etl_session.get_etl_period_sql(arg_dict)) }}
{%- endmacro -%}
