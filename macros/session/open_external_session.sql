{%- macro open_external_session(run_id, period_start, period_end, period_timezone='UTC', source=none, runner_host=none, runner_pid=none) -%}
    {#-
        An operation for etl-session open: opens a `running` session that many dbt invocations
        share (any invocation given its run id joins it), with liveness 'external': no process
        holds it, nothing sweeps it, it ends when etl-session close closes it. The bounds are
        ISO 8601 instants (UTC, `Z`), the zone the period was stated in is recorded. One load of a
        project and target at a time: refused (`overlap`, naming the running session) while
        another runs. Opening again with the run id of a running session of the same period
        returns that session (a retried open). Announces `opened`.
    -#}
    {%- do etl_session.create_session_tables() -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- do etl_session._zone(period_timezone, 'the period time zone') -%}
    {%- set start = etl_session._parse_instant(period_start, 'period_start') -%}
    {%- set end = etl_session._parse_instant(period_end, 'period_end') -%}
    {%- if not start < end -%}
        {{ exceptions.raise_compiler_error("etl_session: period end " ~ end.isoformat() ~ " is not after its start " ~ start.isoformat()) }}
    {%- endif -%}
    {%- set existing = etl_session._session_by_run_id(sessions, run_id) -%}
    {%- if existing is not none -%}
        {%- if existing.external and existing.status == 'running' and existing.period_start == start
              and existing.period_end == end and existing.period_timezone == period_timezone -%}
            {%- set announced = etl_session._session_announcement(existing) -%}
            {%- do announced.update({'reopened': true}) -%}
            {%- do etl_session._announce('opened', announced) -%}
            {{ return('') }}
        {%- endif -%}
        {%- set reason = "run id " ~ run_id ~ " is taken by session " ~ existing.session_id ~ " ("
            ~ existing.status ~ ", " ~ etl_session._utc_iso(existing.period_start) ~ " → "
            ~ etl_session._utc_iso(existing.period_end) ~ "): a run id names one session; give another" -%}
        {%- do etl_session._announce('refused', {'reason': reason}) -%}
        {{ exceptions.raise_compiler_error(reason) }}
    {%- endif -%}
    {%- set ctx = {
        'source': source or project_name,
        'project': project_name,
        'target': target.name,
        'run_id': run_id,
        'command': 'etl-session open',
        'period_start': start,
        'period_end': end,
        'period_timezone': period_timezone,
        'full_refresh': false,
        'selection': none,
        'runner_host': runner_host,
        'runner_pid': runner_pid,
    } -%}
    {%- do etl_session._refuse_beside_external(sessions, ctx) -%}
    {%- do etl_session._execute(etl_session.get_open_session_sql(sessions, ctx)) -%}
    {%- set opened = etl_session._session_by_run_id(sessions, run_id) -%}
    {%- if opened is none -%}
        {%- set blocking = etl_session._running_sessions(sessions, ctx.project, ctx.target, run_id, start, end) -%}
        {%- do etl_session._announce('overlap', {'run_id': run_id, 'blocking': blocking}) -%}
        {%- set first = blocking[0] if blocking else {'session_id': '?', 'started': '?', 'period_start': '?', 'period_end': '?'} -%}
        {{ exceptions.raise_compiler_error(
            "another load of " ~ ctx.project ~ " on " ~ ctx.target ~ " is running: session "
            ~ first.session_id ~ " (" ~ first.period_start ~ " → " ~ first.period_end ~ ", started "
            ~ first.started ~ "); one load of a project and target runs at a time: "
            ~ etl_session._blocked_hint(first)
        ) }}
    {%- endif -%}
    {%- do etl_session._execute(etl_session.get_mark_external_sql(sessions, opened.session_id, 'etl-session open')) -%}
    {%- set announced = etl_session._session_announcement(etl_session._session_by_run_id(sessions, run_id)) -%}
    {%- do announced.update({'reopened': false}) -%}
    {%- do etl_session._announce('opened', announced) -%}
{%- endmacro -%}
