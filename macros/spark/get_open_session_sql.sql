{%- macro spark__get_open_session_sql(relation, ctx) -%}
    {#-
        Spark: no transactions and no locks, so opening is a protocol run here, before the
        returned statement appends the `open` event:
        1. claim the next session id by creating its claim table (`create table if not exists`
           has exactly one winner; the winner is the one whose run id the table carries);
        2. close (append `close` events) the running sessions of this project and target whose
           owner stopped heartbeating;
        3. refuse (append a `void` event for the id, return a no-op) when a session of this
           project and target with a smaller id still runs (one found dead only after step 2
           counts as running: the next attempt closes it), or a smaller id was claimed a moment
           ago for it and has no event yet. A later claimer always sees an earlier one, so of
           two racing loads at most the first runs.
    -#}
    {%- set log = etl_session._spark_log_relation() -%}
    {%- set project = ctx.project or ctx.source -%}
    {%- set same_load = "coalesce(s.project, s.source) = " ~ etl_session._string(project)
        ~ " and s.target = " ~ etl_session._string(ctx.target) -%}
    {%- set gone = etl_session._spark_owner_gone('s.run_id', 's.liveness') -%}
    {#- 1. the claim -#}
    {%- set first_id = (etl_session._spark_property(log, 'etl_session.first_id') or 1) | int -%}
    {%- set found = etl_session._execute('select max(session_id), unix_timestamp() from ' ~ log) -%}
    {%- set base = [(found.rows[0][0] or 0) | int, first_id - 1] | max -%}
    {%- set now = found.rows[0][1] | int -%}
    {%- set claim = namespace(id=none) -%}
    {%- for candidate in range(base + 1, base + 101) -%}
        {%- if claim.id is none -%}
            {%- set table = etl_session._spark_claim_relation(candidate) -%}
            {%- do etl_session._execute(
                'create table if not exists ' ~ table ~ ' (session_id bigint) using parquet tblproperties ('
                ~ "'etl_session.run_id' = " ~ etl_session._string(ctx.run_id)
                ~ ", 'etl_session.load' = " ~ etl_session._string(project ~ '|' ~ ctx.target)
                ~ ", 'etl_session.claimed' = '" ~ now ~ "')") -%}
            {%- if etl_session._spark_property(table, 'etl_session.run_id') == ctx.run_id -%}
                {%- set claim.id = candidate -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if claim.id is none -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: could not claim a session id in " ~ etl_session._spark_claim_relation(base + 1).schema
            ~ " (ids " ~ (base + 1) ~ " to " ~ (base + 100) ~ " are all taken by other runs)") }}
    {%- endif -%}

    {#- 2. close the dead, here: a session is never both skipped as dead and left running -#}
    {%- do etl_session._execute(etl_session._spark_refresh_sql() ~ '\n' ~ etl_session._spark_close_events_sql(
        relation, "s.status = 'running' and " ~ same_load ~ " and s.run_id <> " ~ etl_session._string(ctx.run_id) ~ " and " ~ gone,
        {'status': 'error', 'closed_by': 'abandoned',
         'message': 'abandoned: the load that opened this session stopped heartbeating (found by run ' ~ ctx.run_id ~ ')'})) -%}

    {#- 3. who came first -#}
    {%- set checked = etl_session._execute(etl_session._spark_refresh_sql() ~ '\n'
        ~ 'select (select count(*) from ' ~ relation ~ ' as s where s.status = \'running\' and ' ~ same_load
        ~ ' and s.session_id < ' ~ claim.id ~ '), unix_timestamp(), '
        ~ '(select concat_ws(\',\', collect_set(cast(e.session_id as string))) from ' ~ log ~ ' as e'
        ~ ' where e.session_id > ' ~ base ~ ' and e.session_id < ' ~ claim.id ~ ')') -%}
    {%- set blocking = namespace(count=checked.rows[0][0] | int) -%}
    {%- set now = checked.rows[0][1] | int -%}
    {%- set logged = ((checked.rows[0][2] or '') | string).split(',') -%}
    {%- for pending in range(base + 1, claim.id) -%}
        {%- if blocking.count == 0 and (pending | string) not in logged -%}
            {#- Claimed, no event yet: a load between its claim and its open, unless it is old. -#}
            {%- set table = etl_session._spark_claim_relation(pending) -%}
            {%- if etl_session._spark_property(table, 'etl_session.load') == project ~ '|' ~ ctx.target
                  and ((etl_session._spark_property(table, 'etl_session.claimed') or 0) | int)
                      > now - etl_session._spark_heartbeat_timeout() -%}
                {%- set blocking.count = 1 -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if blocking.count > 0 -%}
        {%- do etl_session._execute(etl_session._spark_log_insert_sql({
            'event': "'void'", 'session_id': claim.id, 'event_id': 'uuid()', 'event_at': 'current_timestamp()',
            'run_id': etl_session._string(ctx.run_id), 'project': etl_session._string(project),
            'target': etl_session._string(ctx.target)})) -%}
        {{ return('select 0 as etl_session_refused') }}
    {%- endif -%}

    {{ etl_session._spark_log_insert_sql({
        'event': "'open'",
        'session_id': claim.id,
        'event_id': 'uuid()',
        'event_at': 'current_timestamp()',
        'source': etl_session._string(ctx.source),
        'target': etl_session._string(ctx.target),
        'period_start': etl_session._typed_literal(ctx.period_start, 'timestamptz'),
        'period_end': etl_session._typed_literal(ctx.period_end, 'timestamptz'),
        'run_id': etl_session._string(ctx.run_id),
        'invocation_id': etl_session._string(invocation_id),
        'dbt_command': etl_session._string(ctx.command),
        'started': 'current_timestamp()',
        'status': "'running'",
        'runner_host': etl_session._string(ctx.get('runner_host')),
        'runner_pid': 'cast(' ~ etl_session._number(ctx.get('runner_pid') | int if ctx.get('runner_pid') else none) ~ ' as int)',
        'project': etl_session._string(ctx.project),
        'period_timezone': etl_session._string(ctx.period_timezone),
        'full_refresh': 'true' if ctx.get('full_refresh') else 'false',
        'selection': etl_session._string(ctx.get('selection')),
        'liveness': etl_session.get_owner_liveness_sql(ctx.run_id),
    }) }}
{%- endmacro -%}
