{%- macro finish_session(session_id=none, run_id=none, status=none, message=none, force=false) -%}
    {#-
        An operation for etl-session close, by session id or run id. A running session opened
        by etl-session open is closed with the status of everything that ran in it (its
        per-node results: `success` only when every node ended well; no result at all is
        `error`, "nothing ran in this session"); `status='error'` closes it as error whatever
        ran (`message` says why), and no status turns a failure into a success. closed_by
        'owner'. A closed session is left as it is (closing twice changes nothing). Any other
        session goes to close_running_session (closed as error by an operator, refused while
        its owner may be alive unless `force`). Announces `close`.
    -#}
    {%- if status is not none and status not in ['success', 'error'] -%}
        {{ exceptions.raise_compiler_error("etl_session.finish_session: status must be 'success' or 'error', not " ~ status) }}
    {%- endif -%}
    {%- set outcome = {'session_id': session_id, 'run_id': run_id, 'found': false, 'external': false,
                       'status': none, 'owner': none, 'closed': false, 'final': none, 'message': none,
                       'closed_by': none, 'ok': none, 'error': none, 'skipped': none} -%}
    {%- set sessions = etl_session._sessions_table() -%}
    {%- set session = none -%}
    {%- if sessions is not none and run_id is not none -%}
        {%- set session = etl_session._session_by_run_id(sessions, run_id) -%}
    {%- elif sessions is not none and session_id is not none -%}
        {%- set rows = etl_session._json_rows(etl_session._execute(etl_session.get_session_by_id_sql(sessions, session_id))) -%}
        {%- set session = etl_session._session_by_run_id(sessions, rows[0].run_id) if rows else none -%}
    {%- endif -%}
    {%- if session is none -%}
        {%- do etl_session._announce('close', outcome) -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not session.external -%}
        {%- do etl_session.close_running_session(session.session_id, force, message) -%}
        {{ return('') }}
    {%- endif -%}
    {%- do outcome.update({'session_id': session.session_id, 'run_id': session.run_id, 'found': true,
                           'external': true, 'status': session.status, 'owner': 'external'}) -%}
    {%- if session.status == 'running' -%}
        {%- set results = etl_session._results_relation() -%}
        {%- set rows = [] -%}
        {%- if adapter.get_relation(results.database, results.schema, results.identifier) -%}
            {%- set rows = etl_session._json_rows(etl_session._execute(etl_session.get_session_results_sql(results, session.session_id))) -%}
        {%- endif -%}
        {%- set counted = etl_session._outcome(rows) -%}
        {%- set final = {'status': counted.status, 'message': counted.message, 'ok': counted.ok,
                         'error': counted.error, 'skipped': counted.skipped, 'closed_by': 'owner'} -%}
        {%- if not rows -%}
            {%- do final.update({'status': 'error', 'message': 'nothing ran in this session'}) -%}
        {%- endif -%}
        {%- if status == 'error' -%}
            {%- set why = 'closed as error: ' ~ (message or 'no reason given') -%}
            {%- do final.update({'status': 'error',
                                 'message': why ~ ('; ' ~ final.message if final.status == 'error' else '')}) -%}
        {%- endif -%}
        {%- do etl_session._execute(etl_session.get_close_session_sql(sessions, session.session_id, final)) -%}
    {%- endif -%}
    {%- set after = etl_session._json_rows(etl_session._execute(etl_session.get_session_by_id_sql(sessions, session.session_id)))[0] -%}
    {%- do outcome.update({'closed': session.status == 'running' and after.status != 'running',
                           'final': after.status, 'message': after.message, 'closed_by': after.get('closed_by'),
                           'ok': after.get('nodes_ok'), 'error': after.get('nodes_error'),
                           'skipped': after.get('nodes_skipped')}) -%}
    {%- do etl_session._announce('close', outcome) -%}
{%- endmacro -%}
