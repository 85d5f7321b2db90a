{%- macro get_copy_session_results_sql(relation, from_session_id, to_session_ids) -%}
    {{ return(adapter.dispatch('get_copy_session_results_sql', 'etl_session')(relation, from_session_id, to_session_ids)) }}
{%- endmacro -%}

{%- macro default__get_copy_session_results_sql(relation, from_session_id, to_session_ids) -%}
    {#- The node results of one session given to others, in one statement: the chunks of one
        run (etl-run --per-run) share the run's results. -#}
    insert into {{ relation }}
        (session_id, node_id, resource_type, status, rows_affected, execution_time, message)
    select chunks.session_id, r.node_id, r.resource_type, r.status, r.rows_affected, r.execution_time, r.message
    from {{ relation }} as r
    cross join (
    {%- for session_id in to_session_ids %}
        {{ 'union all ' if not loop.first }}select cast({{ etl_session._number(session_id) }} as {{ dbt.type_bigint() }}) as session_id
    {%- endfor %}
    ) as chunks
    where r.session_id = {{ etl_session._number(from_session_id) }}
{%- endmacro -%}
