{%- macro show_session(session_id, sweep=true) -%}
    {#-
        An operation for etl-session show: first (when `sweep`) closes the running sessions whose
        owner is gone as abandoned, then announces one session (all columns) and its per-node
        results, or a null session when there is no such session (or no sessions table yet).
    -#}
    {%- set table = etl_session._sessions_table() -%}
    {%- set sessions = table or etl_session._sessions_relation() -%}
    {%- set results = etl_session._results_relation() -%}
    {%- set session = none -%}
    {%- set nodes = [] -%}
    {%- set swept = etl_session._sweep_dead_sessions(sessions) if table is not none and sweep else [] -%}
    {%- if table is not none -%}
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
        'session': session, 'nodes': nodes, 'swept': swept}) -%}
{%- endmacro -%}
