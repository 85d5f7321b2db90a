{%- macro create_session_tables() -%}
    {#- Create the schema and both tables when missing. Idempotent; never drops anything. -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set results = etl_session._results_relation() -%}
    {%- do adapter.create_schema(sessions) -%}
    {%- do etl_session._execute(etl_session.get_create_sessions_table_sql(sessions)) -%}
    {%- do etl_session._execute(etl_session.get_create_session_results_table_sql(results)) -%}
{%- endmacro -%}
