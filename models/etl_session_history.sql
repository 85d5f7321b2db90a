{{ config(enabled=var('etl_session_reporting', true)) }}

select
    s.session_id,
    s.project,
    s.source,
    s.target,
    s.period_start,
    s.period_end,
    s.period_timezone,
    s.run_id,
    s.dbt_command,
    s.status,
    s.message,
    s.closed_by,
    s.full_refresh,
    s.selection,
    s.started,
    s.finished,
    {{ dbt.datediff('s.started', 's.finished', 'millisecond') }} / 1000.0 as duration_seconds,
    s.nodes_ok,
    s.nodes_error,
    s.nodes_skipped
from {{ source('etl_session', 'sessions') }} as s
