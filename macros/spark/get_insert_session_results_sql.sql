{%- macro spark__get_insert_session_results_sql(relation, session_id, rows) -%}
    {#- Spark: the chunk as one partition (session, first node id) written by dynamic overwrite. -#}
    insert overwrite table {{ relation }} partition (session_id, batch)
    select node_id, resource_type, status, cast(rows_affected as bigint), cast(execution_time as double),
        message, cast({{ etl_session._number(session_id) }} as bigint), {{ etl_session._string(rows[0].node_id) }}
    from values
    {%- for row in rows %}
        ({{ etl_session._string(row.node_id) }}, {{ etl_session._string(row.resource_type) }},
         {{ etl_session._string(row.status) }}, {{ etl_session._number(row.rows_affected) }},
         {{ etl_session._number(row.execution_time) }}, {{ etl_session._string(row.message) }}){{ "," if not loop.last }}
    {%- endfor %}
    as etl_session_results (node_id, resource_type, status, rows_affected, execution_time, message)
{%- endmacro -%}
