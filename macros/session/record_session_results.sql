{%- macro record_session_results(run_id, nodes=none, error=none, invocation=none) -%}
    {#-
        An operation for etl-run: adds the per-node results of an invocation that joined a
        session opened by etl-session open when its on-run-end hook could not (Ctrl-C, a crash,
        a failed hook), and, with `error`, one row for the invocation itself (resource_type
        'invocation', status 'error') so that the session's final status sees the failure.
        Changes nothing unless the run id names such a session and it is running. Announces
        `recorded` (`found`).
    -#}
    {%- set session = etl_session._session_by_run_id(etl_session._sessions_table(), run_id) -%}
    {%- if session is none or not session.external or session.status != 'running' -%}
        {%- do etl_session._announce('recorded', {'found': false, 'run_id': run_id}) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for node in nodes or [] -%}
        {%- do rows.append({
            'node_id': node.node_id, 'resource_type': node.get('resource_type'), 'status': node.status,
            'rows_affected': node.get('rows_affected'), 'execution_time': node.get('execution_time'),
            'message': etl_session._plain(node.get('message'))}) -%}
    {%- endfor -%}
    {%- if error -%}
        {%- do rows.append({
            'node_id': 'invocation.' ~ (invocation or invocation_id), 'resource_type': 'invocation',
            'status': 'error', 'rows_affected': none, 'execution_time': none,
            'message': etl_session._plain(error)}) -%}
    {%- endif -%}
    {%- do etl_session._record_results(session.session_id, rows) -%}
    {%- do etl_session._announce('recorded', {'found': true, 'run_id': run_id, 'session_id': session.session_id, 'rows': rows | length}) -%}
{%- endmacro -%}
