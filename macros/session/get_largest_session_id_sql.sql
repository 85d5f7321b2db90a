{%- macro get_largest_session_id_sql(relation) -%}
    {{ return(adapter.dispatch('get_largest_session_id_sql', 'etl_session')(relation)) }}
{%- endmacro -%}

{%- macro default__get_largest_session_id_sql(relation) -%}
    select max(session_id) from {{ relation }}
{%- endmacro -%}
