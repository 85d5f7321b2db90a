{%- macro spark__get_owner_lock_sql(run_id) -%}
    {#- Spark has no locks that end with a connection: the owner (etl-run) proves it is alive by
        writing its heartbeat every etl_session_heartbeat_seconds on a connection of its own:
        one row in one of its two partitions of the heartbeats table, taken in turn, so while a
        beat replaces one, a reader still finds the other (see _spark_refresh_sql).
        The first beat (`first`) fills both partitions: a later beat that lands in the same
        partition as the one before (a slow beat pushes the next past a whole interval) then
        never replaces the run's only row, which a reader in that moment would miss, and so
        take a live load for dead. Announced here with its interval (the runner repeats `sql`);
        nothing for open_session to announce. -#}
    {%- set insert = 'insert overwrite table ' ~ etl_session._spark_heartbeats_relation()
        ~ ' partition (run_id, slot) ' -%}
    {%- set run = etl_session._string(run_id) -%}
    {%- do etl_session._announce('hold', {
        'run_id': run_id,
        'first': insert ~ 'select current_timestamp(), ' ~ run ~ ', 0 union all '
            ~ 'select current_timestamp(), ' ~ run ~ ', 1',
        'sql': insert ~ 'select current_timestamp(), ' ~ run
            ~ ', cast(unix_timestamp() div ' ~ etl_session._spark_heartbeat_seconds() ~ ' % 2 as int)',
        'every': etl_session._spark_heartbeat_seconds()}) -%}
    {{ return(none) }}
{%- endmacro -%}
