{%- macro get_close_session_sql(relation, session_id, outcome, from_status='running') -%}
    {{ return(adapter.dispatch('get_close_session_sql', 'etl_session')(relation, session_id, outcome, from_status)) }}
{%- endmacro -%}

{%- macro default__get_close_session_sql(relation, session_id, outcome, from_status='running') -%}
    {#- Only a session still in `from_status` changes: closing twice changes nothing. -#}
    update {{ relation }}
    set status = {{ etl_session._string(outcome.status) }},
        finished = {{ dbt.current_timestamp() }},
        message = {{ etl_session._string(outcome.message) }},
        nodes_ok = {{ etl_session._number(outcome.get('ok')) }},
        nodes_error = {{ etl_session._number(outcome.get('error')) }},
        nodes_skipped = {{ etl_session._number(outcome.get('skipped')) }},
        closed_by = {{ etl_session._string(outcome.get('closed_by')) }}
    where session_id = {{ etl_session._number(session_id) }}
      and status = {{ etl_session._string(from_status) }}
{%- endmacro -%}
