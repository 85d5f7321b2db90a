{#-
    Private helpers of the Spark variants. Spark's default tables (parquet in a Hive metastore)
    cannot UPDATE or DELETE, so a session's life is an append-only event log (`<sessions>_log`)
    and the sessions "table" users query is a view over it that gives each session's current
    state. Liveness is a heartbeat the runner appends (`<sessions>_heartbeats`); session ids are
    claimed with `create table if not exists` (one winner) in a schema of their own.
-#}

{%- macro _spark_log_relation() -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {{ return(sessions.incorporate(path={'identifier': sessions.identifier ~ '_log'}, type='table')) }}
{%- endmacro -%}


{%- macro _spark_heartbeats_relation() -%}
    {%- set sessions = etl_session._sessions_relation() -%}
    {{ return(sessions.incorporate(path={'identifier': sessions.identifier ~ '_heartbeats'}, type='table')) }}
{%- endmacro -%}


{%- macro _spark_claim_relation(session_id) -%}
    {#- The table whose creation claims a session id: one winner among racing processes. -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {{ return(sessions.incorporate(path={
        'schema': var('etl_session_claims_schema', none) or (sessions.schema ~ '_etl_claims'),
        'identifier': sessions.identifier ~ '_' ~ (session_id | int)}, type='table')) }}
{%- endmacro -%}


{%- macro _spark_refresh_sql() -%}
    {#- Other processes append to the log: a Spark session that read it before sees their rows
        only after REFRESH TABLE. A heartbeat replaces the files of one of its run's two
        partitions while others read: a file listed but gone by the time it is read is skipped
        (the run's other partition holds its previous beat) instead of failing the read. This
        setting stays on the connection. -#}
    set spark.sql.files.ignoreMissingFiles=true;
    refresh table {{ etl_session._spark_log_relation() }};
    refresh table {{ etl_session._spark_heartbeats_relation() }};
    refresh table {{ etl_session._results_relation() }};
{%- endmacro -%}


{%- macro _spark_heartbeat_seconds() -%}
    {{ return(var('etl_session_heartbeat_seconds', 10) | int) }}
{%- endmacro -%}


{%- macro _spark_heartbeat_timeout() -%}
    {#- A load whose last heartbeat is older than this is gone (several missed beats). -#}
    {{ return(var('etl_session_heartbeat_timeout', 60) | int) }}
{%- endmacro -%}


{%- macro _spark_utc(column) -%}
    {#- A Spark timestamp (an instant shown in the session zone) as the UTC wall-clock value that
        dbt's Python side reads as a naive UTC datetime, whatever the session zone. -#}
    {{ return('to_utc_timestamp(' ~ column ~ ', current_timezone())') }}
{%- endmacro -%}


{%- macro _spark_session_columns(alias='s') -%}
    {#- The sessions view's columns for reads, timestamps in UTC (see _spark_utc). -#}
    {%- set names = [] -%}
    {%- for name, type in etl_session._spark_session_schema() -%}
        {%- if type == 'timestamp' -%}
            {%- do names.append(etl_session._spark_utc(alias ~ '.' ~ name) ~ ' as ' ~ name) -%}
        {%- else -%}
            {%- do names.append(alias ~ '.' ~ name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names | join(', ')) }}
{%- endmacro -%}


{%- macro _spark_session_schema() -%}
    {#- The sessions columns, in the order of the other adapters' table. -#}
    {{ return([
        ('session_id', 'bigint'), ('source', 'string'), ('target', 'string'),
        ('period_start', 'timestamp'), ('period_end', 'timestamp'), ('run_id', 'string'),
        ('invocation_id', 'string'), ('dbt_command', 'string'), ('started', 'timestamp'),
        ('finished', 'timestamp'), ('status', 'string'), ('message', 'string'),
        ('nodes_ok', 'int'), ('nodes_error', 'int'), ('nodes_skipped', 'int'),
        ('runner_host', 'string'), ('runner_pid', 'int'), ('cleanup', 'string'),
        ('project', 'string'), ('period_timezone', 'string'), ('full_refresh', 'boolean'),
        ('selection', 'string'), ('liveness', 'string'), ('closed_by', 'string'),
    ]) }}
{%- endmacro -%}


{%- macro _spark_owner_gone(run_id_column, liveness_column) -%}
    {#- True when a load that heartbeats has not done so for the timeout (server clock only). -#}
    ({{ liveness_column }} = 'heartbeat' and coalesce(
        (select max(h.beat_at) from {{ etl_session._spark_heartbeats_relation() }} as h
         where h.run_id = {{ run_id_column }}),
        timestamp'1970-01-01 00:00:00Z') < current_timestamp() - interval {{ etl_session._spark_heartbeat_timeout() }} seconds)
{%- endmacro -%}


{%- macro _spark_log_insert_sql(values, source=none) -%}
    {#- Append events to the log: `values` maps columns to SQL expressions (event, session_id and
        the columns that event sets; the others are null), evaluated over `source` (a from/where
        clause) when given. The log is partitioned by (session_id, event) and written with
        dynamic partition overwrite: each statement stages its files in a folder of its own, so
        concurrent writers never collide (plain appends to one parquet table share a
        `_temporary` folder, and the first commit deletes the other writer's files). A second
        event of the same kind for a session replaces the first. -#}
    {%- set columns = [] -%}
    {%- for name, type in [('event_id', 'string'), ('event_at', 'timestamp')] + etl_session._spark_session_schema() -%}
        {%- if name != 'session_id' -%}
            {%- do columns.append(values.get(name, 'cast(null as ' ~ type ~ ')') ~ ' as ' ~ name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do columns.append('cast(' ~ values.session_id ~ ' as bigint) as session_id') -%}
    {%- do columns.append(values.event ~ ' as event') -%}
    insert overwrite table {{ etl_session._spark_log_relation() }} partition (session_id, event)
    select {{ columns | join(',\n        ') }}
    {{ source or '' }}
{%- endmacro -%}


{%- macro _spark_close_events_sql(relation, where, outcome, event='close') -%}
    {#- Append one closing event per session of the sessions view matching `where`. -#}
    {{ etl_session._spark_log_insert_sql({
        'event': etl_session._string(event),
        'session_id': 's.session_id',
        'event_id': 'uuid()',
        'event_at': 'current_timestamp()',
        'finished': 'current_timestamp()',
        'status': etl_session._string(outcome.status),
        'message': etl_session._string(outcome.get('message')),
        'nodes_ok': 'cast(' ~ etl_session._number(outcome.get('ok')) ~ ' as int)',
        'nodes_error': 'cast(' ~ etl_session._number(outcome.get('error')) ~ ' as int)',
        'nodes_skipped': 'cast(' ~ etl_session._number(outcome.get('skipped')) ~ ' as int)',
        'closed_by': etl_session._string(outcome.get('closed_by')),
    }, 'from ' ~ relation ~ ' as s where ' ~ where) }}
{%- endmacro -%}


{%- macro _spark_property(relation, key) -%}
    {#- One table property, or none when the table does not have it. -#}
    {%- set found = etl_session._execute('show tblproperties ' ~ relation ~ " ('" ~ key ~ "')") -%}
    {%- if found is none or found.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = found.rows[0][1] | string -%}
    {{ return(none if value.startswith('Table ') and 'does not have property' in value else value) }}
{%- endmacro -%}


{%- macro _spark_properties(relation) -%}
    {#- All properties of a table, as a dict. -#}
    {%- set found = etl_session._execute('show tblproperties ' ~ relation) -%}
    {%- set properties = {} -%}
    {%- for row in (found.rows if found is not none else []) -%}
        {%- do properties.update({row[0] | string: row[1] | string}) -%}
    {%- endfor -%}
    {{ return(properties) }}
{%- endmacro -%}


{%- macro _spark_file_format() -%}
    {#- The model's table format (dbt-spark's `file_format`, default parquet). -#}
    {{ return((config.get('file_format', none) or 'parquet') | string | lower) }}
{%- endmacro -%}
