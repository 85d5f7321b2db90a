{%- macro spark__get_owner_liveness_sql(run_id) -%}
    {#- Spark: 'heartbeat' when the owner's first heartbeat is in (etl-run beats before the
        session opens); plain dbt beats never, and its sessions are never taken for dead. -#}
    case when (select count(*) from {{ etl_session._spark_heartbeats_relation() }}
               where run_id = {{ etl_session._string(run_id) }}) > 0 then 'heartbeat' end
{%- endmacro -%}
