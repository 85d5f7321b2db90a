{%- macro session_id() -%}
    {{ return(adapter.dispatch('session_id', 'etl_session')()) }}
{%- endmacro -%}

{%- macro default__session_id() -%}
    {#- The id of the running session as a bigint literal (one cheap lookup per model). -#}
    {%- set ctx = etl_session._require_period('session_id') -%}
    {%- if not ctx.has_period or not etl_session._is_load_command() -%}
        {{ return('cast(null as ' ~ dbt.type_bigint() ~ ')') }}
    {%- endif -%}
    {%- set found = etl_session._execute(etl_session.get_session_lookup_sql(etl_session._sessions_relation(), ctx.run_id)) -%}
    {%- if found is none or found.rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "etl_session.session_id(): no session was opened for run " ~ ctx.run_id
            ~ ": add on-run-start: [\"{{ etl_session.open_session() }}\"] to dbt_project.yml"
        ) }}
    {%- endif -%}
    {{ return('cast(' ~ (found.rows[0][0] | int) ~ ' as ' ~ dbt.type_bigint() ~ ')') }}
{%- endmacro -%}
