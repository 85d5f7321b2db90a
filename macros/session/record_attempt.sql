{%- macro record_attempt(run_id, period_start, period_end, source, message, command='build', project=none, period_timezone='UTC') -%}
    {#-
        Record a load that could not start (a compile error in the project, say) as an `error`
        session with the reason. etl-run calls it with the package as the root project, so it
        works while the user's project does not even parse.
    -#}
    {%- do etl_session.create_session_tables() -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set ctx = {
        'source': source,
        'project': project or source,
        'period_timezone': period_timezone,
        'target': target.name,
        'run_id': run_id,
        'command': command,
        'period_start': etl_session._parse_instant(period_start, 'period_start'),
        'period_end': etl_session._parse_instant(period_end, 'period_end'),
    } -%}
    {%- do etl_session._execute(etl_session.get_open_session_sql(sessions, ctx)) -%}
    {%- set opened = etl_session._execute(etl_session.get_session_lookup_sql(sessions, run_id)) -%}
    {%- if opened.rows | length == 0 -%}
        {#- Another load of the project runs: it is not ours to record over. -#}
        {{ return('') }}
    {%- endif -%}
    {%- set session_id = opened.rows[0][0] | int -%}
    {%- do etl_session._execute(etl_session.get_close_session_sql(sessions, session_id, {'status': 'error', 'message': etl_session._plain(message), 'closed_by': 'runner'})) -%}
    {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(sessions, run_id)) -%}
    {%- do etl_session._announce('closed', {'session_id': found.rows[0][0] | int, 'run_id': run_id, 'status': found.rows[0][1]}) -%}
{%- endmacro -%}
