{%- macro get_session_by_id_sql(relation, session_id) -%}
    {{ return(adapter.dispatch('get_session_by_id_sql', 'etl_session')(relation, session_id)) }}
{%- endmacro -%}

{%- macro default__get_session_by_id_sql(relation, session_id) -%}
    select *
    from {{ relation }}
    where session_id = {{ etl_session._number(session_id) }}
{%- endmacro -%}
