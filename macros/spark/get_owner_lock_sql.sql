{%- macro spark__get_owner_lock_sql(run_id) -%}
    {#- Spark has no locks that end with a connection: the owner (etl-run) proves it is alive by
        writing its heartbeat every etl_session_heartbeat_seconds on a connection of its own:
        one row in one of its two partitions of the heartbeats table, taken in turn, so while a
        beat replaces one, a reader still finds the other (see _spark_refresh_sql).
        Announced here with its interval (the runner repeats it); nothing for open_session to
        announce. -#}
    {%- do etl_session._announce('hold', {
        'run_id': run_id,
        'sql': 'insert overwrite table ' ~ etl_session._spark_heartbeats_relation()
            ~ ' partition (run_id, slot) select current_timestamp(), ' ~ etl_session._string(run_id)
            ~ ', cast(unix_timestamp() div ' ~ etl_session._spark_heartbeat_seconds() ~ ' % 2 as int)',
        'every': etl_session._spark_heartbeat_seconds()}) -%}
    {{ return(none) }}
{%- endmacro -%}
