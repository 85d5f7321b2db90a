{%- macro end_session(run_id, status='error', message=none) -%}
    {#-
        Close the session of `run_id` if it is still running: etl-run calls this through
        `dbt run-operation` when dbt could not run the on-run-end hook (Ctrl-C, a crash, a
        failed hook). A session that is already closed is left exactly as it is.
    -#}
    {%- if status not in ['success', 'error'] -%}
        {{ exceptions.raise_compiler_error("etl_session.end_session: status must be 'success' or 'error', not " ~ status) }}
    {%- endif -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- if not adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) -%}
        {%- do etl_session._announce('missing', {'run_id': run_id}) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(sessions, run_id)) -%}
    {%- if found.rows | length == 0 -%}
        {%- do etl_session._announce('missing', {'run_id': run_id}) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set session_id = found.rows[0][0] | int -%}
    {%- if found.rows[0][1] == 'running' -%}
        {%- do etl_session._execute(etl_session.get_close_session_sql(
            sessions, session_id, {'status': status, 'message': message}
        )) -%}
    {%- endif -%}
    {%- set final = etl_session._execute(etl_session.get_session_lookup_sql(sessions, run_id)) -%}
    {%- do etl_session._announce('closed', {'session_id': session_id, 'run_id': run_id, 'status': final.rows[0][1]}) -%}
    {{ return('') }}
{%- endmacro -%}
