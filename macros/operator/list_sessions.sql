{%- macro list_sessions(status=none, target_name=none, started_from=none, started_before=none, limit=20) -%}
    {#-
        An operation for etl-session list: announces the newest sessions (all columns), newest
        first, filtered when a filter is given. No sessions table yet is an empty list.
    -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set exists = adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) is not none -%}
    {%- set rows = [] -%}
    {%- if exists -%}
        {%- set found = etl_session._execute(etl_session.get_list_sessions_sql(
            sessions, status, target_name, started_from, started_before, limit)) -%}
        {%- set rows = etl_session._json_rows(found) -%}
    {%- endif -%}
    {%- do etl_session._announce('sessions', {
        'table': etl_session._relation_name(sessions), 'exists': exists, 'sessions': rows}) -%}
{%- endmacro -%}
