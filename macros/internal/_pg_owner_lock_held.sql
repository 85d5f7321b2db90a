{%- macro _pg_owner_lock_held(run_id_sql) -%}
    {#- Postgres: whether some backend holds the owner lock of the run id `run_id_sql` (an SQL
        expression); bigint advisory keys show in pg_locks as classid (high) and objid (low). -#}
    exists (
        select 1 from pg_catalog.pg_locks as l
        where l.locktype = 'advisory'
          and l.granted
          and l.objsubid = 1
          and l.database = (select d.oid from pg_catalog.pg_database as d where d.datname = current_database())
          and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended({{ run_id_sql }}, 0)
    )
{%- endmacro -%}
