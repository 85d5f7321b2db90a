{%- macro get_open_session_sql(relation, ctx) -%}
    {{ return(adapter.dispatch('get_open_session_sql', 'etl_session')(relation, ctx)) }}
{%- endmacro -%}

{%- macro default__get_open_session_sql(relation, ctx) -%}
    {#- Inserts the running row unless a running session of the same source and target overlaps
        the period: then nothing is inserted, and the caller finds no row for its run id. -#}
    {%- set start = etl_session._typed_literal(ctx.period_start, 'timestamptz') -%}
    {%- set end = etl_session._typed_literal(ctx.period_end, 'timestamptz') -%}
    insert into {{ relation }}
        (source, target, period_start, period_end, run_id, invocation_id, dbt_command, started, status,
         runner_host, runner_pid)
    select
        {{ etl_session._string(ctx.source) }},
        {{ etl_session._string(ctx.target) }},
        {{ start }},
        {{ end }},
        {{ etl_session._string(ctx.run_id) }},
        {{ etl_session._string(invocation_id) }},
        {{ etl_session._string(ctx.command) }},
        {{ dbt.current_timestamp() }},
        'running',
        {{ etl_session._string(ctx.get('runner_host')) }},
        {{ etl_session._number(ctx.get('runner_pid') | int if ctx.get('runner_pid') else none) }}
    where not exists (
        select 1 from {{ relation }}
        where source = {{ etl_session._string(ctx.source) }}
          and target = {{ etl_session._string(ctx.target) }}
          and status = 'running'
          and period_start < {{ end }}
          and {{ start }} < period_end
    )
{%- endmacro -%}

{%- macro postgres__get_open_session_sql(relation, ctx) -%}
    {#- Postgres: two loads may start at the same instant; a transaction-scoped advisory lock per
        source and target makes the overlap check and the insert one step. -#}
    select pg_advisory_xact_lock(hashtext('etl_session:open:' || {{ etl_session._string(ctx.source ~ '|' ~ ctx.target) }}));
    {{ etl_session.default__get_open_session_sql(relation, ctx) }}
{%- endmacro -%}
