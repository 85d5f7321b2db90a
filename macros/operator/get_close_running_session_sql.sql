{%- macro get_close_running_session_sql(relation, session_ids, message, closed_by) -%}
    {{ return(adapter.dispatch('get_close_running_session_sql', 'etl_session')(relation, session_ids, message, closed_by)) }}
{%- endmacro -%}

{%- macro default__get_close_running_session_sql(relation, session_ids, message, closed_by) -%}
    {#- Closes sessions as `error` from outside their load. Only a session still `running`
        changes, so a load that closed itself in the meantime keeps its own outcome. -#}
    update {{ relation }}
    set status = 'error',
        finished = {{ dbt.current_timestamp() }},
        message = {{ etl_session._string(message) }},
        closed_by = {{ etl_session._string(closed_by) }}
    where status = 'running'
      and session_id in (
        {%- for session_id in session_ids -%}
            {{ etl_session._number(session_id) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
      )
{%- endmacro -%}
