{%- macro spark__get_owner_lock_sql(run_id) -%}
    {#- Spark has no locks that end with a connection: the owner (etl-run) proves it is alive by
        appending a heartbeat every etl_session_heartbeat_seconds on a connection of its own.
        Announced here with its interval (the runner repeats it); nothing for open_session to
        announce. -#}
    {%- do etl_session._announce('hold', {
        'run_id': run_id,
        'sql': 'insert into ' ~ etl_session._spark_heartbeats_relation() ~ ' values ('
            ~ etl_session._string(run_id) ~ ', current_timestamp())',
        'every': etl_session._spark_heartbeat_seconds()}) -%}
    {{ return(none) }}
{%- endmacro -%}
