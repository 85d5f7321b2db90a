{%- macro spark__get_record_cleanup_sql(relation, session_id, cleanup) -%}
    {#- Spark: a `cleanup` event (it carries the whole record; a later one replaces it). -#}
    {{ etl_session._spark_log_insert_sql({
        'event': "'cleanup'",
        'session_id': etl_session._number(session_id),
        'event_id': 'uuid()',
        'event_at': 'current_timestamp()',
        'cleanup': etl_session._string(cleanup),
    }) }}
{%- endmacro -%}
