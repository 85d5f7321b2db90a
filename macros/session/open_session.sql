{%- macro open_session() -%}
    {#- For on-run-start. Inserts the 'running' row of this load; returns no SQL of its own.
        An invocation whose run id names a running session opened by etl-session open joins
        that session instead (see _join_session). -#}
    {%- if not etl_session._is_load_command() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set ctx = etl_session._context() -%}
    {%- do etl_session._check_strategy_shim() -%}
    {%- do etl_session._check_full_refresh() -%}
    {#- Always ensure the tables, so the package's reporting models build even without a period. -#}
    {%- do etl_session.create_session_tables() -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set shared = etl_session._session_by_run_id(sessions, ctx.run_id) -%}
    {%- if shared is not none and shared.external -%}
        {#- Its run id names a session opened by etl-session open: join it, open nothing. -#}
        {%- do etl_session._join_session(shared, ctx) -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not ctx.has_period -%}
        {%- do log('etl_session: no loading period given, no session opened', info=true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- do ctx.update({'selection': etl_session._selection(), 'chunks': etl_session._chunks(ctx)}) -%}
    {%- if ctx.chunks | length > 1 and adapter.type() == 'spark' -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: several chunks in one run (etl-run --per-run) are not supported on Spark: "
            ~ "load one chunk per run (--per-run 1)") }}
    {%- endif -%}
    {%- set holds = [] -%}
    {%- for chunk in ctx.chunks -%}
        {%- set one = etl_session.get_owner_lock_sql(chunk.run_id) -%}
        {%- if one -%}
            {%- do holds.append(one) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set hold = holds | join(';\n') -%}
    {%- if hold -%}
        {#- etl-run takes this lock on a connection of its own before the row exists, and keeps it
            for the whole load: the warehouse then knows whether the load is alive. -#}
        {%- do etl_session._announce('hold', {'run_id': ctx.run_id, 'sql': hold}) -%}
    {%- endif -%}
    {%- do etl_session._refuse_beside_external(sessions, ctx) -%}
    {#- dbt listed the warehouse's relations (its relation cache) before this hook: a load of this
        project that ended since may have built relations the cache misses. etl-run lists them
        again (`stale_cache` below); plain dbt is refused, as while that load ran. -#}
    {%- do ctx.update({'cache_age': etl_session._relation_cache_age(),
                       'refreshes_cache': env_var('ETL_SESSION_REFRESHES_CACHE', '') == '1'}) -%}
    {%- do etl_session._execute(etl_session.get_open_session_sql(sessions, ctx)) -%}
    {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(sessions, ctx.run_id)) -%}
    {%- if found.rows | length == 0 -%}
        {#- A live load of the same project and target runs: load nothing. -#}
        {%- set blocking = etl_session._running_sessions(
            sessions, ctx.project, ctx.target, ctx.run_id, ctx.period_start, ctx.period_end) -%}
        {%- do etl_session._announce('overlap', {'run_id': ctx.run_id, 'blocking': blocking}) -%}
        {%- if not blocking and etl_session._ended_recently(sessions, ctx, 5) -%}
            {{ exceptions.raise_compiler_error(
                "another load of " ~ ctx.project ~ " on " ~ ctx.target ~ " ended while this dbt run was "
                ~ "starting: dbt listed the warehouse's relations before that load's were built, so it "
                ~ "could fail on them or replace them; run again (etl-run lists them again itself)") }}
        {%- endif -%}
        {%- if not blocking -%}
            {#- Spark: a load between its id claim and its open, not yet in the sessions view. -#}
            {{ exceptions.raise_compiler_error(
                "another load of " ~ ctx.project ~ " on " ~ ctx.target ~ " is starting (it claimed a "
                ~ "session id a moment ago and has not opened it yet); one load of a project and target "
                ~ "runs at a time: wait for it, or use --wait") }}
        {%- endif -%}
        {%- set first = blocking[0] -%}
        {{ exceptions.raise_compiler_error(
            "another load of " ~ ctx.project ~ " on " ~ ctx.target ~ " is running: session "
            ~ first.session_id ~ " (" ~ first.period_start ~ " → " ~ first.period_end ~ ", started "
            ~ first.started ~ ", host " ~ first.host ~ ", pid " ~ first.pid ~ "); one load of a project "
            ~ "and target runs at a time: " ~ etl_session._blocked_hint(first)
        ) }}
    {%- endif -%}
    {%- set session_id = found.rows[0][0] | int -%}
    {%- set opened = {'session_id': session_id, 'run_id': ctx.run_id} -%}
    {%- if ctx.refreshes_cache and etl_session._ended_recently(sessions, ctx, 0) -%}
        {#- etl-run lists the relations again when it reads this, inside this hook. -#}
        {%- do opened.update({'stale_cache': true}) -%}
    {%- endif -%}
    {%- if ctx.chunks | length > 1 -%}
        {#- Several chunks: one session each, in the order of their periods. -#}
        {%- set chunk_sessions = [] -%}
        {%- for row in etl_session._chunk_sessions(sessions, ctx) -%}
            {%- do chunk_sessions.append({'session_id': row.session_id, 'run_id': row.run_id}) -%}
        {%- endfor -%}
        {%- do opened.update({'chunks': chunk_sessions}) -%}
    {%- endif -%}
    {%- do etl_session._announce('opened', opened) -%}
    {{ return('') }}
{%- endmacro -%}


{%- macro _relation_cache_age() -%}
    {#- Seconds since this dbt invocation started (before it listed the warehouse's relations),
        plus a margin for the way of the statement that uses it to the warehouse; none when dbt
        does not say. A load's `finished` comes after everything it built: one that ended
        before this invocation started left nothing the cache can miss. -#}
    {%- if run_started_at is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set elapsed = (modules.datetime.datetime.now(modules.pytz.utc) - run_started_at).total_seconds() -%}
    {{ return(elapsed + 0.25) }}
{%- endmacro -%}


{%- macro _ended_recently(relation, ctx, slack) -%}
    {#- Whether a session of this project and target other than this load's ended within the
        relation cache's age (plus `slack` seconds). -#}
    {%- if ctx.cache_age is none -%}
        {{ return(false) }}
    {%- endif -%}
    {#- Spark: other processes append to the log; this connection sees them after a refresh. -#}
    {%- set refresh = etl_session._spark_refresh_sql() ~ '\n' if adapter.type() == 'spark' else '' -%}
    {%- set found = etl_session._execute(
        refresh ~ "select count(*) from " ~ relation ~ " where coalesce(project, source) = "
        ~ etl_session._string(ctx.project or ctx.source) ~ " and target = " ~ etl_session._string(ctx.target)
        ~ " and run_id <> " ~ etl_session._string(ctx.run_id)
        ~ " and " ~ etl_session.get_ended_recently_sql('finished', ctx.cache_age + slack)) -%}
    {{ return((found.rows[0][0] | int) > 0) }}
{%- endmacro -%}


{%- macro _selection() -%}
    {#- The node selection of this invocation as JSON text, or none for the whole project. -#}
    {%- set args = invocation_args_dict or {} -%}
    {%- set chosen = {} -%}
    {%- for key in ['select', 'exclude', 'selector'] -%}
        {%- set value = args.get(key) -%}
        {%- if value -%}
            {%- do chosen.update({key: (value | list) if value is not string else [value]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tojson(chosen, sort_keys=true) if chosen else none) }}
{%- endmacro -%}


{%- macro _check_full_refresh() -%}
    {#- --full-refresh drops and rebuilds incremental tables. A period model rebuilt that way
        would keep only this session's period: refuse before anything is dropped, unless the
        model says where its history begins (etl_period_begin), and then reload that history. -#}
    {%- if not (flags.FULL_REFRESH is true) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set refused = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if etl_session._is_period_model(node) and node.unique_id in (selected_resources or [])
              and node.config.get('full_refresh') is not false and not node.config.get('etl_period_begin') -%}
            {%- do refused.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not refused -%}
        {#- dbt compiles an ephemeral model once, with the session's period: a model rebuilt from
            etl_period_begin that reads a period-limited ephemeral would get only this period. -#}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- if etl_session._is_period_model(node) and node.unique_id in (selected_resources or [])
                  and node.config.get('full_refresh') is not false -%}
                {%- set limited = etl_session._period_limited_ephemeral(node) -%}
                {%- if limited is not none -%}
                    {%- set reason = "--full-refresh would rebuild " ~ node.unique_id ~ " from this period only: it reads the ephemeral "
                        ~ limited ~ ", which limits its input to the period (dbt compiles an ephemeral model once, with the session's "
                        ~ "period). Keep that input whole and limit it with period_ref in " ~ node.name
                        ~ ", or set full_refresh=false on it, or leave out --full-refresh" -%}
                    {%- do etl_session._announce('refused', {'reason': reason}) -%}
                    {{ exceptions.raise_compiler_error(reason) }}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if refused -%}
        {%- set reason = "--full-refresh would drop every other period of " ~ (refused | sort | join(', '))
            ~ " and reload only this one: set config(etl_period_begin='2023-01-01') on the model to "
            ~ "reload its whole history from there, or set full_refresh=false on it, or leave out --full-refresh" -%}
        {%- do etl_session._announce('refused', {'reason': reason}) -%}
        {{ exceptions.raise_compiler_error(reason) }}
    {%- endif -%}
{%- endmacro -%}

