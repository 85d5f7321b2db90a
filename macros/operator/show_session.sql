{%- macro show_session(session_id) -%}
    {#-
        An operation for etl-session show: announces one session (all columns) and its per-node
        results, or a null session when there is no such session (or no sessions table yet).
    -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set results = etl_session._results_relation() -%}
    {%- set session = none -%}
    {%- set nodes = [] -%}
    {%- if adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) -%}
        {%- set found = etl_session._json_rows(etl_session._execute(etl_session.get_session_by_id_sql(sessions, session_id))) -%}
        {%- if found -%}
            {%- set session = found[0] -%}
            {%- if adapter.get_relation(results.database, results.schema, results.identifier) -%}
                {%- set nodes = etl_session._json_rows(etl_session._execute(etl_session.get_session_results_sql(results, session_id))) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- do etl_session._announce('session', {
        'session_id': session_id, 'table': etl_session._relation_name(sessions),
        'session': session, 'nodes': nodes}) -%}
{%- endmacro -%}
