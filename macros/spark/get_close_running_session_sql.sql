{%- macro spark__get_close_running_session_sql(relation, session_ids, message, closed_by) -%}
    {#- Spark: closing events for the sessions that are still running. -#}
    {{ etl_session._spark_refresh_sql() }}
    {{ etl_session._spark_close_events_sql(
        relation,
        "s.status = 'running' and s.session_id in (" ~ (session_ids | map('int') | join(', ')) ~ ")",
        {'status': 'error', 'message': message, 'closed_by': closed_by}) }}
{%- endmacro -%}
