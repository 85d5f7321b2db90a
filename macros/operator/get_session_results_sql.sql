{%- macro get_session_results_sql(relation, session_id) -%}
    {{ return(adapter.dispatch('get_session_results_sql', 'etl_session')(relation, session_id)) }}
{%- endmacro -%}

{%- macro default__get_session_results_sql(relation, session_id) -%}
    select node_id, resource_type, status, rows_affected, execution_time, message
    from {{ relation }}
    where session_id = {{ etl_session._number(session_id) }}
    order by node_id
{%- endmacro -%}
