{%- macro open_session() -%}
    {#- For on-run-start. Inserts the 'running' row of this load; returns no SQL of its own. -#}
    {%- if not etl_session._is_load_command() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set ctx = etl_session._context() -%}
    {%- do etl_session._check_strategy_shim() -%}
    {#- Always ensure the tables, so the package's reporting models build even without a period. -#}
    {%- do etl_session.create_session_tables() -%}
    {%- if not ctx.has_period -%}
        {%- do log('etl_session: no loading period given, no session opened', info=true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- do etl_session._execute(etl_session.get_open_session_sql(sessions, ctx)) -%}
    {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(sessions, ctx.run_id)) -%}
    {%- set others = etl_session._running_sessions(
        sessions, ctx.source, ctx.target, ctx.run_id, ctx.period_start, ctx.period_end) -%}
    {%- if found.rows | length == 0 -%}
        {#- A running session of the same source and target overlaps this period: load nothing. -#}
        {%- set blocking = others | selectattr('overlaps') | list or others -%}
        {%- do etl_session._announce('overlap', {'run_id': ctx.run_id, 'blocking': blocking}) -%}
        {%- set first = blocking[0] if blocking else {'session_id': '?', 'started': '?', 'host': '?', 'pid': '?'} -%}
        {{ exceptions.raise_compiler_error(
            "the period overlaps running session " ~ first.session_id ~ " of "
            ~ ctx.source ~ " on " ~ ctx.target ~ " (started " ~ first.started ~ ", host "
            ~ first.host ~ ", pid " ~ first.pid ~ "): wait for it, or use etl-run --wait"
        ) }}
    {%- endif -%}
    {%- set session_id = found.rows[0][0] | int -%}
    {%- do etl_session._announce('opened', {'session_id': session_id, 'run_id': ctx.run_id, 'others': others}) -%}
    {{ return('') }}
{%- endmacro -%}
