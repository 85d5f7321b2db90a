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
           counts as running: the next attempt closes it), or a smaller id was claimed for it by
           a load that is alive and has not opened yet. A later claimer always sees an earlier
           one, so of two racing loads at most the first runs.
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

    {#- 3. who came first. The ids claimed just before ours (the last `window`, not only those
        above the first read: a claim that a refused load's `void` overtook is still pending)
        are judged from one scan of the log, since a second scan (the view's) can miss an `open`
        committed in between and see neither a running session nor a pending claim. An `open`
        without `close` or `void` is a load running; no event at all is a load between its
        claim and its open, for as long as it heartbeats (etl-run beats before it claims), or,
        when it never beat (plain dbt), until its claim is older than the heartbeat timeout.
        Older ids: the view. -#}
    {%- set window = [first_id, claim.id - 100] | max -%}
    {%- set checked = etl_session._execute(etl_session._spark_refresh_sql() ~ '\n'
        ~ 'select count(*), unix_timestamp() from ' ~ relation ~ ' as s where s.status = \'running\' and ' ~ same_load
        ~ ' and s.session_id < ' ~ window) -%}
    {%- set blocking = namespace(count=checked.rows[0][0] | int) -%}
    {%- set now = checked.rows[0][1] | int -%}
    {%- set events = etl_session._execute(
        'select e.session_id, e.event, coalesce(e.project, e.source), e.target from ' ~ log ~ ' as e'
        ~ ' where e.session_id >= ' ~ window ~ ' and e.session_id < ' ~ claim.id) -%}
    {%- set seen = {} -%}
    {%- for row in events.rows -%}
        {%- set entry = seen.setdefault(row[0] | int, {'events': [], 'load': none}) -%}
        {%- do entry.events.append(row[1] | string) -%}
        {%- if row[1] == 'open' -%}
            {%- do entry.update({'load': (row[2] | string) ~ '|' ~ (row[3] | string)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for pending in range(window, claim.id) -%}
        {%- set entry = seen.get(pending) -%}
        {%- if blocking.count > 0 or (entry and ('close' in entry.events or 'void' in entry.events)) -%}
            {#- decided already, or a load that ended or was refused -#}
        {%- elif entry and 'open' in entry.events -%}
            {%- if entry.load == project ~ '|' ~ ctx.target -%}
                {%- set blocking.count = 1 -%}
            {%- endif -%}
        {%- else -%}
            {%- set claimed = etl_session._spark_properties(etl_session._spark_claim_relation(pending)) -%}
            {%- if claimed.get('etl_session.load') == project ~ '|' ~ ctx.target
                  and claimed.get('etl_session.run_id') != ctx.run_id -%}
                {%- set beats = etl_session._execute(
                    'select count(*), coalesce(max(h.beat_at) >= current_timestamp() - interval '
                    ~ etl_session._spark_heartbeat_timeout() ~ ' seconds, false) from '
                    ~ etl_session._spark_heartbeats_relation() ~ ' as h where h.run_id = '
                    ~ etl_session._string(claimed.get('etl_session.run_id'))) -%}
                {%- if (beats.rows[0][0] | int) > 0 -%}
                    {%- set alive = beats.rows[0][1] in [true, 'true'] -%}
                {%- else -%}
                    {%- set alive = (claimed.get('etl_session.claimed') or 0) | int > now - etl_session._spark_heartbeat_timeout() -%}
                {%- endif -%}
                {%- if alive -%}
                    {%- set blocking.count = 1 -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {#- Plain dbt listed the relations (its relation cache) before this hook: a load of this
        project and target that ended since may have built relations it misses (etl-run lists
        them again instead; see open_session). -#}
    {%- if blocking.count == 0 and not ctx.get('refreshes_cache') and etl_session._ended_recently(relation, ctx, 0) -%}
        {%- set blocking.count = 1 -%}
    {%- endif -%}
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
