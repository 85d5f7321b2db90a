{%- macro get_session_lookup_sql(relation, run_id) -%}
    {{ return(adapter.dispatch('get_session_lookup_sql', 'etl_session')(relation, run_id)) }}
{%- endmacro -%}

{%- macro default__get_session_lookup_sql(relation, run_id) -%}
    select session_id, status
    from {{ relation }}
    where run_id = {{ etl_session._string(run_id) }}
{%- endmacro -%}
