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
    {%- set session_id = found.rows[0][0] | int -%}
    {%- do etl_session._announce('opened', {'session_id': session_id, 'run_id': ctx.run_id}) -%}
    {{ return('') }}
{%- endmacro -%}
