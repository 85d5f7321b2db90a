{%- macro get_insert_session_results_sql(relation, session_id, rows) -%}
    {{ return(adapter.dispatch('get_insert_session_results_sql', 'etl_session')(relation, session_id, rows)) }}
{%- endmacro -%}

{%- macro default__get_insert_session_results_sql(relation, session_id, rows) -%}
    {#- One multi-row insert for a whole chunk of node results. -#}
    insert into {{ relation }}
        (session_id, node_id, resource_type, status, rows_affected, execution_time, message)
    values
    {%- for row in rows %}
        ({{ etl_session._number(session_id) }}, {{ etl_session._string(row.node_id) }},
         {{ etl_session._string(row.resource_type) }}, {{ etl_session._string(row.status) }},
         {{ etl_session._number(row.rows_affected) }}, {{ etl_session._number(row.execution_time) }},
         {{ etl_session._string(row.message) }}){{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro -%}
