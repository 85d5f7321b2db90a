{%- macro get_open_session_sql(relation, ctx) -%}
    {{ return(adapter.dispatch('get_open_session_sql', 'etl_session')(relation, ctx)) }}
{%- endmacro -%}

{%- macro default__get_open_session_sql(relation, ctx) -%}
    insert into {{ relation }}
        (source, target, period_start, period_end, run_id, invocation_id, dbt_command, started, status)
    values (
        {{ etl_session._string(ctx.source) }},
        {{ etl_session._string(ctx.target) }},
        {{ etl_session._typed_literal(ctx.period_start, 'timestamptz') }},
        {{ etl_session._typed_literal(ctx.period_end, 'timestamptz') }},
        {{ etl_session._string(ctx.run_id) }},
        {{ etl_session._string(invocation_id) }},
        {{ etl_session._string(ctx.command) }},
        {{ dbt.current_timestamp() }},
        'running'
    )
{%- endmacro -%}
