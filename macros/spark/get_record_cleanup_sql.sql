{%- macro spark__get_record_cleanup_sql(relation, session_id, cleanup) -%}
    {#- Spark: a `cleanup` event; the view shows the latest. -#}
    insert into {{ etl_session._spark_log_relation() }} (event, event_id, event_at, session_id, cleanup)
    select 'cleanup', uuid(), current_timestamp(), {{ etl_session._number(session_id) }}, {{ etl_session._string(cleanup) }}
{%- endmacro -%}
