{%- macro get_record_cleanup_sql(relation, session_id, cleanup) -%}
    {{ return(adapter.dispatch('get_record_cleanup_sql', 'etl_session')(relation, session_id, cleanup)) }}
{%- endmacro -%}

{%- macro default__get_record_cleanup_sql(relation, session_id, cleanup) -%}
    update {{ relation }}
    set cleanup = {{ etl_session._string(cleanup) }}
    where session_id = {{ etl_session._number(session_id) }}
{%- endmacro -%}
