{%- macro end_session(run_id, status='error', message=none, counts=none, nodes=none, downgrade=false, chunk_run_ids=none) -%}
    {#-
        Close the session of `run_id` if it is still running. etl-run calls this through
        `dbt run-operation` when the on-run-end hook could not close it (Ctrl-C, a crash, a failed
        hook). `nodes` (dicts like the results table's rows) are written with it. A closed session
        is left exactly as it is, except that `downgrade=true` turns a `success` into `error` when
        something failed after the hook closed it. Never turns an error into a success.
        `chunk_run_ids`: the run ids of the other chunks of the same run (etl-run --per-run),
        closed the same way; the announcement is the one of `run_id`.
    -#}
    {%- for other in chunk_run_ids or [] -%}
        {%- do etl_session.end_session(other, status, message, counts, nodes, downgrade) -%}
    {%- endfor -%}
    {%- if status not in ['success', 'error'] -%}
        {{ exceptions.raise_compiler_error("etl_session.end_session: status must be 'success' or 'error', not " ~ status) }}
    {%- endif -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set found = none -%}
    {%- if adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) -%}
        {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(sessions, run_id)) -%}
    {%- endif -%}
    {%- if found is none or found.rows | length == 0 -%}
        {%- do etl_session._announce('missing', {'run_id': run_id}) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set session_id = found.rows[0][0] | int -%}
    {%- set current = found.rows[0][1] -%}
    {%- set outcome = {'status': status, 'message': etl_session._plain(message), 'closed_by': 'runner'} -%}
    {%- do outcome.update(counts or {}) -%}
    {%- if current == 'running' -%}
        {%- set statements = [] -%}
        {%- for chunk in (nodes or []) | batch(var('etl_session_results_chunk_size', 500) | int) -%}
            {%- do statements.append(etl_session.get_insert_session_results_sql(etl_session._results_relation(), session_id, chunk)) -%}
        {%- endfor -%}
        {%- do statements.append(etl_session.get_close_session_sql(sessions, session_id, outcome)) -%}
        {%- do etl_session._execute(statements | join(';\n')) -%}
    {%- elif downgrade and current == 'success' and status == 'error' -%}
        {%- do etl_session._execute(etl_session.get_close_session_sql(sessions, session_id, outcome, from_status='success')) -%}
    {%- endif -%}
    {%- set final = etl_session._execute(etl_session.get_session_lookup_sql(sessions, run_id)) -%}
    {%- do etl_session._announce('closed', {'session_id': session_id, 'run_id': run_id, 'status': final.rows[0][1]}) -%}
    {{ return('') }}
{%- endmacro -%}
