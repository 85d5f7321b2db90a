{%- macro get_delete_session_results_sql(relation, session_id, node_ids) -%}
    {{ return(adapter.dispatch('get_delete_session_results_sql', 'etl_session')(relation, session_id, node_ids)) }}
{%- endmacro -%}

{%- macro default__get_delete_session_results_sql(relation, session_id, node_ids) -%}
    {#- The earlier results of these nodes in a session many invocations share: a node run
        again (a retried task) keeps only its latest result. -#}
    delete from {{ relation }}
    where session_id = {{ etl_session._number(session_id) }}
      and node_id in (
        {%- for node_id in node_ids -%}
            {{ etl_session._string(node_id) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
      )
{%- endmacro -%}
