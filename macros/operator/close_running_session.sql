{%- macro close_running_session(session_id, force=false, message=none) -%}
    {#-
        An operation for etl-session close: closes a `running` session as `error`, message
        `closed by operator: <message>`, closed_by 'operator', when its owner is gone
        (get_session_owners_sql), or whatever its owner's state when `force`. Announces
        `close` with `found`, `status` (before), `owner`, `closed` and `final` (the status after).
        Changes nothing for a session that is not running.
    -#}
    {%- set sessions = etl_session._sessions_table() -%}
    {%- set outcome = {'session_id': session_id, 'found': false, 'status': none, 'owner': none,
                       'closed': false, 'final': none, 'message': none, 'closed_by': none} -%}
    {%- set session = none -%}
    {%- if sessions is not none -%}
        {%- set found = etl_session._json_rows(etl_session._execute(etl_session.get_session_by_id_sql(sessions, session_id))) -%}
        {%- set session = found[0] if found else none -%}
    {%- endif -%}
    {%- if session is none -%}
        {%- do etl_session._announce('close', outcome) -%}
        {{ return('') }}
    {%- endif -%}
    {%- do outcome.update({'found': true, 'status': session.status, 'final': session.status,
                           'message': session.message, 'closed_by': session.get('closed_by')}) -%}
    {%- if session.status == 'running' -%}
        {%- set owner = etl_session._session_owners(sessions, session_id).get(session_id | int, 'unknown') -%}
        {%- do outcome.update({'owner': owner}) -%}
        {%- if owner == 'dead' or force -%}
            {%- set text = 'closed by operator: ' ~ (message if message else 'no reason given') -%}
            {%- do etl_session._execute(etl_session.get_close_running_session_sql(sessions, [session_id], text, 'operator')) -%}
            {%- set after = etl_session._json_rows(etl_session._execute(etl_session.get_session_by_id_sql(sessions, session_id)))[0] -%}
            {%- do outcome.update({'closed': after.get('closed_by') == 'operator' and after.message == text,
                                   'final': after.status, 'message': after.message,
                                   'closed_by': after.get('closed_by')}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- do etl_session._announce('close', outcome) -%}
{%- endmacro -%}
