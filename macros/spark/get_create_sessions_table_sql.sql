{%- macro spark__get_create_sessions_table_sql(relation, first_id=1) -%}
    {#- Spark: no UPDATE on parquet, so an append-only event log (open, close, downgrade, void,
        cleanup events; see _spark_log_insert_sql) and `relation` as a view giving each session's
        current state, with the other adapters' columns; a heartbeat table for liveness (two rows
        per run, one of them replaced at each beat); the schema of the id claims. -#}
    {%- set log = etl_session._spark_log_relation() -%}
    {%- set columns = etl_session._spark_session_schema() -%}
    create schema if not exists {{ etl_session._spark_claim_relation(0).schema }};
    create table if not exists {{ log }} (
        event_id string,
        event_at timestamp,
        {%- for name, type in columns if name != 'session_id' %}
        {{ name }} {{ type }},
        {%- endfor %}
        session_id bigint,
        event string
    ) using parquet
    partitioned by (session_id, event)
    options ('partitionOverwriteMode' = 'dynamic')
    tblproperties ('etl_session.first_id' = '{{ first_id | int }}');
    create table if not exists {{ etl_session._spark_heartbeats_relation() }} (
        beat_at timestamp,
        run_id string,
        slot int
    ) using parquet
    partitioned by (run_id, slot)
    options ('partitionOverwriteMode' = 'dynamic');
    create view if not exists {{ relation }} as
    with closing as (
        select e.*, row_number() over (partition by e.session_id, e.event order by e.event_at, e.event_id) as n
        from {{ log }} as e
        where e.event in ('close', 'downgrade')
    ),
    cleaned as (
        select e.session_id, e.cleanup,
            row_number() over (partition by e.session_id order by e.event_at desc, e.event_id desc) as n
        from {{ log }} as e
        where e.event = 'cleanup'
    )
    select
        {%- for name, type in columns %}
        {%- if name in ['finished', 'status', 'message', 'nodes_ok', 'nodes_error', 'nodes_skipped', 'closed_by'] %}
        case when d.session_id is not null then d.{{ name }} when c.session_id is not null then c.{{ name }} else o.{{ name }} end as {{ name }}
        {%- elif name == 'cleanup' %}
        k.cleanup as cleanup
        {%- else %}
        o.{{ name }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ log }} as o
    left join closing as c on c.session_id = o.session_id and c.event = 'close' and c.n = 1
    left join closing as d on d.session_id = o.session_id and d.event = 'downgrade' and d.n = 1
    left join cleaned as k on k.session_id = o.session_id and k.n = 1
    where o.event = 'open'
{%- endmacro -%}
