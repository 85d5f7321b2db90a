{%- macro _execute(sql) -%}
    {#-
        Run statements in their own transaction and commit them now; returns the result table.
        run_query() does not begin dbt's transaction (psycopg2 then opens one dbt cannot commit),
        and hooks run on dbt's 'master' connection, which is closed, rolling back anything still
        open, as soon as the hooks end.
    -#}
    {%- call statement('etl_session', fetch_result=true, auto_begin=true) -%}
        {{ etl_session.get_script_sql(sql) }}
    {%- endcall -%}
    {%- set result = load_result('etl_session') -%}
    {%- do adapter.commit() -%}
    {{ return(result.table if result else none) }}
{%- endmacro -%}


{%- macro _announce(event, payload) -%}
    {#- One machine-readable line for etl-run (read from dbt's event stream, never parsed from text logs). -#}
    {%- set body = {'event': event} -%}
    {%- do body.update(payload) -%}
    {%- do log('etl_session ' ~ tojson(body), info=false) -%}
{%- endmacro -%}
