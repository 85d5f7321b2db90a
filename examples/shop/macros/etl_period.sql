{% macro get_incremental_etl_period_sql(arg_dict) %}{{ return(etl_session.get_etl_period_sql(arg_dict)) }}{% endmacro %}
