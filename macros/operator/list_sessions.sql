{%- macro list_sessions(status=none, target_name=none, started_from=none, started_before=none, limit=20, sweep=true) -%}
    {#-
        An operation for etl-session list: first (when `sweep`) closes the running sessions whose
        owner is gone as abandoned, then announces the newest sessions (all columns), newest
        first, filtered when a filter is given. No sessions table yet is an empty list.
    -#}
    {%- set table = etl_session._sessions_table() -%}
    {%- set sessions = table or etl_session._sessions_relation() -%}
    {%- set exists = table is not none -%}
    {%- set rows = [] -%}
    {%- set swept = etl_session._sweep_dead_sessions(sessions) if exists and sweep else [] -%}
    {%- if exists -%}
        {%- set found = etl_session._execute(etl_session.get_list_sessions_sql(
            sessions, status, target_name, started_from, started_before, limit)) -%}
        {%- set rows = etl_session._json_rows(found) -%}
    {%- endif -%}
    {%- do etl_session._announce('sessions', {
        'table': etl_session._relation_name(sessions), 'exists': exists, 'sessions': rows,
        'swept': swept}) -%}
{%- endmacro -%}
