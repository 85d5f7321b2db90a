{#-
    Private helpers for a session many dbt invocations share: one opened by `etl-session open`
    (or etl_session.open_session() in Python), joined by every invocation given its run id, and
    closed by `etl-session close RUN_ID`. Such a session has liveness 'external': no process
    holds it, so nothing sweeps it as abandoned; it ends only when it is closed explicitly.
-#}

{%- macro _session_by_run_id(sessions, run_id) -%}
    {#- The session of `run_id` as a dict (bounds as aware UTC datetimes), or none. The
        sessions table must exist (dbt's relation cache does not know a table created now). -#}
    {%- if run_id is none or sessions is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = etl_session._execute(etl_session.get_session_by_run_id_sql(sessions, run_id)) -%}
    {%- if found is none or found.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set row = found.rows[0] -%}
    {%- set bounds = [] -%}
    {%- for value in [row[3], row[4]] -%}
        {%- if value is string -%}
            {%- set value = etl_session._parse_instant(value, 'period') -%}
        {%- elif value.tzinfo is none -%}
            {%- set value = value.replace(tzinfo=modules.pytz.utc) -%}
        {%- endif -%}
        {%- do bounds.append(value.astimezone(modules.pytz.utc)) -%}
    {%- endfor -%}
    {{ return({
        'session_id': row[0] | int,
        'status': row[1] | string,
        'liveness': row[2],
        'external': row[2] == 'external',
        'period_start': bounds[0],
        'period_end': bounds[1],
        'period_timezone': row[5] or 'UTC',
        'source': row[6],
        'project': row[7],
        'target': row[8],
        'run_id': row[9],
    }) }}
{%- endmacro -%}


{%- macro _utc_iso(instant) -%}
    {{ return(instant.astimezone(modules.pytz.utc).strftime('%Y-%m-%dT%H:%M:%SZ') if instant.microsecond == 0
              else instant.astimezone(modules.pytz.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')) }}
{%- endmacro -%}


{%- macro _session_announcement(session) -%}
    {#- What etl-run and etl-session are told about a shared session (JSON-ready). -#}
    {{ return({
        'session_id': session.session_id,
        'run_id': session.run_id,
        'status': session.status,
        'external': session.external,
        'period_start': etl_session._utc_iso(session.period_start),
        'period_end': etl_session._utc_iso(session.period_end),
        'period_timezone': session.period_timezone,
        'source': session.source,
        'project': session.project,
        'target': session.target,
    }) }}
{%- endmacro -%}


{%- macro _join_session(session, ctx) -%}
    {#- An invocation whose run id names a session opened by etl-session open joins it instead
        of opening one: the same session_id stamps its rows, its results add to the session's,
        and its on-run-end does not close it. Refused (compiler error, `refused` for etl-run)
        when the session is closed, or when this invocation's period differs from it. -#}
    {%- set name = "session " ~ session.session_id ~ " (run id " ~ session.run_id ~ ")" -%}
    {%- set reason = none -%}
    {%- set wanted = "ETL_SESSION_PERIOD_START=" ~ etl_session._utc_iso(session.period_start)
        ~ " ETL_SESSION_PERIOD_END=" ~ etl_session._utc_iso(session.period_end)
        ~ " ETL_SESSION_PERIOD_TIMEZONE=" ~ session.period_timezone -%}
    {%- if session.status != 'running' -%}
        {%- set reason = name ~ " is already " ~ session.status ~ ": a closed session cannot be joined; open a new one (etl-session open)" -%}
    {%- elif not ctx.has_period -%}
        {%- set reason = "this invocation joins " ~ name ~ " and must load its period: give " ~ wanted
            ~ " (or the vars etl_period_start, etl_period_end, etl_period_timezone)" -%}
    {%- elif ctx.period_start != session.period_start or ctx.period_end != session.period_end
          or ctx.period_timezone != session.period_timezone -%}
        {%- set reason = "this invocation's period " ~ etl_session._utc_iso(ctx.period_start) ~ " → "
            ~ etl_session._utc_iso(ctx.period_end) ~ " (" ~ ctx.period_timezone ~ ") is not the period of "
            ~ name ~ ", which it joins: give " ~ wanted -%}
    {%- elif ctx.full_refresh -%}
        {%- set reason = "--full-refresh cannot join " ~ name ~ ": a full refresh is a load of its own; run it outside the shared session" -%}
    {%- endif -%}
    {%- if reason is not none -%}
        {%- set reason = "etl_session: " ~ reason -%}
        {%- do etl_session._announce('refused', {'reason': reason}) -%}
        {{ exceptions.raise_compiler_error(reason) }}
    {%- endif -%}
    {%- do etl_session._announce('joined', etl_session._session_announcement(session)) -%}
{%- endmacro -%}


{%- macro _refuse_beside_external(sessions, ctx) -%}
    {#- One load of a project and target at a time: a running session opened by etl-session
        open is a load in progress (its process may be gone between its invocations, so it is
        never swept as abandoned). A new load is refused, naming it and how to join or close it. -#}
    {%- set found = etl_session._execute(etl_session.get_external_sessions_sql(sessions, ctx.project, ctx.target)) -%}
    {%- set external_run_ids = [] -%}
    {%- for row in found.rows -%}
        {%- if row[1] != ctx.run_id -%}
            {%- do external_run_ids.append(row[1]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not external_run_ids -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set blocking = [] -%}
    {%- for item in etl_session._running_sessions(sessions, ctx.project, ctx.target, ctx.run_id, ctx.period_start, ctx.period_end) -%}
        {%- if item.run_id in external_run_ids -%}
            {%- do blocking.append(item) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do etl_session._announce('overlap', {'run_id': ctx.run_id, 'blocking': blocking}) -%}
    {%- set first = blocking[0] -%}
    {{ exceptions.raise_compiler_error(
        "another load of " ~ ctx.project ~ " on " ~ ctx.target ~ " is running: session "
        ~ first.session_id ~ " (" ~ first.period_start ~ " → " ~ first.period_end ~ ", started "
        ~ first.started ~ "), opened by etl-session open with run id " ~ first.run_id
        ~ "; one load of a project and target runs at a time: join it (etl_run_id / ETL_SESSION_RUN_ID="
        ~ first.run_id ~ "), or close it (etl-session close " ~ first.run_id ~ ")"
    ) }}
{%- endmacro -%}


{%- macro _record_results(session_id, rows) -%}
    {#- Add per-node rows to a shared session, in one transaction: a node that ran before in
        the session (a retried task) keeps only its latest row. -#}
    {%- if not rows -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set results_relation = etl_session._results_relation() -%}
    {%- set chunk_size = var('etl_session_results_chunk_size', 500) | int -%}
    {%- set statements = [] -%}
    {%- for chunk in rows | batch(chunk_size) -%}
        {%- do statements.append(etl_session.get_delete_session_results_sql(results_relation, session_id, chunk | map(attribute='node_id') | list)) -%}
        {%- do statements.append(etl_session.get_insert_session_results_sql(results_relation, session_id, chunk)) -%}
    {%- endfor -%}
    {%- do etl_session._execute(statements | join(';\n')) -%}
{%- endmacro -%}
