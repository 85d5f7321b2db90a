{%- macro close_session(results) -%}
    {#-
        For on-run-end. Writes the per-node results in batched statements and closes the running
        session with its final status. Closing an already-closed session changes nothing.
        A session opened by etl-session open (that this invocation joined) is not closed: the
        results are added to it (a node's latest result replaces its earlier one).
    -#}
    {%- if not etl_session._is_load_command() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set ctx = etl_session._context() -%}
    {%- if not ctx.has_period -%}
        {{ return('') }}
    {%- endif -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(sessions, ctx.run_id)) -%}
    {%- if found.rows | length == 0 -%}
        {%- do log('etl_session: no session to close for run ' ~ ctx.run_id, info=true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set session_id = found.rows[0][0] | int -%}
    {%- if found.rows[0][1] != 'running' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rows = etl_session._result_rows(results) -%}
    {%- set outcome = etl_session._outcome(rows) -%}
    {%- set shared = etl_session._session_by_run_id(sessions, ctx.run_id) -%}
    {%- if shared is not none and shared.external -%}
        {#- A session opened by etl-session open: this invocation only adds its results; the
            session is closed by etl-session close, from everything that ran in it. -#}
        {%- do etl_session._record_results(session_id, rows) -%}
        {%- do etl_session._announce('recorded', {'session_id': session_id, 'run_id': ctx.run_id,
            'status': outcome.status, 'ok': outcome.ok, 'error': outcome.error, 'skipped': outcome.skipped}) -%}
        {{ return('') }}
    {%- endif -%}
    {%- do outcome.update({'closed_by': 'hook'}) -%}
    {%- set chunk_size = var('etl_session_results_chunk_size', 500) | int -%}
    {%- set results_relation = etl_session._results_relation() -%}
    {#- One transaction: a statement per chunk of node results, then the session's final state. -#}
    {%- set statements = [] -%}
    {#- Several chunks in this run (etl-run --per-run): every chunk's session gets the run's
        results and status, in the same transaction. -#}
    {%- set closing = [session_id] -%}
    {%- do ctx.update({'chunks': etl_session._chunks(ctx)}) -%}
    {%- if ctx.chunks | length > 1 -%}
        {%- set closing = etl_session._chunk_sessions(sessions, ctx) | selectattr('status', 'equalto', 'running')
            | map(attribute='session_id') | list -%}
    {%- endif -%}
    {%- if closing -%}
        {%- for chunk in rows | batch(chunk_size) -%}
            {%- do statements.append(etl_session.get_insert_session_results_sql(results_relation, closing[0], chunk)) -%}
        {%- endfor -%}
        {%- if closing | length > 1 and rows -%}
            {%- do statements.append(etl_session.get_copy_session_results_sql(results_relation, closing[0], closing[1:])) -%}
        {%- endif -%}
    {%- endif -%}
    {%- for closed_id in closing -%}
        {%- do statements.append(etl_session.get_close_session_sql(sessions, closed_id, outcome)) -%}
    {%- endfor -%}
    {%- do etl_session._execute(statements | join(';\n')) -%}
    {%- do etl_session._announce('closed', {'session_id': session_id, 'run_id': ctx.run_id, 'status': outcome.status}) -%}
    {{ return('') }}
{%- endmacro -%}
