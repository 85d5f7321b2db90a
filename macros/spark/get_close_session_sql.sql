{%- macro spark__get_close_session_sql(relation, session_id, outcome, from_status='running') -%}
    {#- Spark: append a closing event, only while the session is still in `from_status` (the
        view keeps the first close, so closing twice changes nothing); from `success` it is a
        `downgrade` event, which the view applies over the close. -#}
    {{ etl_session._spark_refresh_sql() }}
    {{ etl_session._spark_close_events_sql(
        relation,
        's.session_id = ' ~ etl_session._number(session_id) ~ ' and s.status = ' ~ etl_session._string(from_status),
        outcome, 'downgrade' if from_status == 'success' else 'close') }}
{%- endmacro -%}
