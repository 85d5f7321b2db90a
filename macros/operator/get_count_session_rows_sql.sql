{%- macro get_count_session_rows_sql(relation, session_id, predicate=none) -%}
    {{ return(adapter.dispatch('get_count_session_rows_sql', 'etl_session')(relation, session_id, predicate)) }}
{%- endmacro -%}

{%- macro default__get_count_session_rows_sql(relation, session_id, predicate=none) -%}
    select count(*)
    from {{ relation }}
    where session_id = {{ etl_session._number(session_id) }}
    {%- if predicate %}
      and {{ predicate }}
    {%- endif %}
{%- endmacro -%}
