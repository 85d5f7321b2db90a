{%- macro get_last_session_end_sql(relation, source, target_name) -%}
    {{ return(adapter.dispatch('get_last_session_end_sql', 'etl_session')(relation, source, target_name)) }}
{%- endmacro -%}

{%- macro default__get_last_session_end_sql(relation, source, target_name) -%}
    select max(period_end)
    from {{ relation }}
    where source = {{ etl_session._string(source) }}
      and target = {{ etl_session._string(target_name) }}
      and status = 'success'
{%- endmacro -%}
