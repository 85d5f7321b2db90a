{%- macro get_open_session_sql(relation, ctx) -%}
    {{ return(adapter.dispatch('get_open_session_sql', 'etl_session')(relation, ctx)) }}
{%- endmacro -%}

{%- macro default__get_open_session_sql(relation, ctx) -%}
    {#- One load at a time per project and target. In one step: close the running sessions of
        this project and target whose owner is gone (`abandoned`), then insert this load's
        running row unless a live one remains; then the caller finds no row for its run id. -#}
    {%- set same_load = "coalesce(project, source) = " ~ etl_session._string(ctx.project or ctx.source)
        ~ " and target = " ~ etl_session._string(ctx.target) -%}
    update {{ relation }}
    set status = 'error',
        finished = {{ dbt.current_timestamp() }},
        message = 'abandoned: the load that opened this session is gone (found by run ' || {{ etl_session._string(ctx.run_id) }} || ')',
        closed_by = 'abandoned'
    where status = 'running'
      and {{ same_load }}
      and run_id <> {{ etl_session._string(ctx.run_id) }}
      and {{ etl_session.get_owner_gone_sql('run_id', 'liveness') }};
    insert into {{ relation }}
        (source, target, period_start, period_end, run_id, invocation_id, dbt_command, started, status,
         runner_host, runner_pid, project, period_timezone, full_refresh, selection, liveness)
    select
        {{ etl_session._string(ctx.source) }},
        {{ etl_session._string(ctx.target) }},
        chunks.period_start,
        chunks.period_end,
        chunks.run_id,
        {{ etl_session._string(invocation_id) }},
        {{ etl_session._string(ctx.command) }},
        {{ dbt.current_timestamp() }},
        'running',
        {{ etl_session._string(ctx.get('runner_host')) }},
        {{ etl_session._number(ctx.get('runner_pid') | int if ctx.get('runner_pid') else none) }},
        {{ etl_session._string(ctx.project) }},
        {{ etl_session._string(ctx.period_timezone) }},
        {{ 'true' if ctx.get('full_refresh') else 'false' }},
        {{ etl_session._string(ctx.get('selection')) }},
        chunks.liveness
    {#- One row per chunk (one, the period, unless etl-run --per-run loads several). #}
    from (
    {%- for chunk in (ctx.chunks or [{'start': ctx.period_start, 'end': ctx.period_end, 'run_id': ctx.run_id}]) %}
        {{ 'union all ' if not loop.first }}select
            {{ etl_session._typed_literal(chunk.start, 'timestamptz') }} as period_start,
            {{ etl_session._typed_literal(chunk.end, 'timestamptz') }} as period_end,
            {{ etl_session._string(chunk.run_id) }} as run_id,
            {{ etl_session.get_owner_liveness_sql(chunk.run_id) }} as liveness
    {%- endfor %}
    ) as chunks
    where not exists (
        select 1 from {{ relation }}
        where {{ same_load }}
          and (status = 'running'
          {%- if ctx.get('cache_age') is not none and not ctx.get('refreshes_cache') %}
            {#- plain dbt: its relation cache predates a load that ended since: refused -#}
            or {{ etl_session.get_ended_recently_sql('finished', ctx.cache_age) }}
          {%- endif %})
    )
{%- endmacro -%}

{%- macro postgres__get_open_session_sql(relation, ctx) -%}
    {#- Postgres: two loads may start at the same instant; a transaction-scoped advisory lock per
        project and target makes closing the dead, the check and the insert one step. -#}
    select pg_advisory_xact_lock(hashtext('etl_session:open:' || {{ etl_session._string((ctx.project or ctx.source) ~ '|' ~ ctx.target) }}));
    {{ etl_session.default__get_open_session_sql(relation, ctx) }}
{%- endmacro -%}
