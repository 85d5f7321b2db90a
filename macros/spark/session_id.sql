{%- macro spark__session_id() -%}
    {#- Spark: the id looked up when the model is compiled, as a literal. A scalar subquery on the
        sessions view could read a stale log in the model's Spark session (no REFRESH inside a
        query), and Spark has no transaction that a lookup at compile time could disturb. -#}
    {%- do etl_session._guard('session_id') -%}
    {%- if etl_session._in_unit_test() -%}
        {%- set given = var('etl_session_id', none) -%}
        {{ return('cast(' ~ (etl_session._number(given | int) if given is not none else 'null') ~ ' as bigint)') }}
    {%- endif -%}
    {%- set ctx = etl_session._require_period('session_id') -%}
    {%- if not ctx.has_period or not etl_session._is_load_command() -%}
        {{ return('cast(null as bigint)') }}
    {%- endif -%}
    {%- if not etl_session._has_open_hook() -%}
        {{ return(etl_session.default__session_id()) }}
    {%- endif -%}
    {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(etl_session._sessions_relation(), ctx.run_id)) -%}
    {%- if found is none or found.rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "etl_session.session_id(): no session is open for run " ~ ctx.run_id ~ " in "
            ~ etl_session._sessions_relation() ~ " (did on-run-start open_session() fail?)") }}
    {%- endif -%}
    {{ return('cast(' ~ (found.rows[0][0] | int) ~ ' as bigint)') }}
{%- endmacro -%}
