{{ config(enabled=var('etl_session_reporting', true)) }}
{#-
    Coverage for BI tools: per period model, its timeline cut into stretches, each with the state
    its latest load gave it (loaded, failed) or missing, the session that decided it and the
    session whose rows are live there now. A stretch counts as missing between the model's
    etl_period_begin (else its first load) and now when no load covers it. Session ids grow in
    the order loads open, so the latest load of a stretch is its largest session id.
    `etl-session coverage` draws the same timeline (and also shows running loads).
-#}
{%- set models = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if etl_session._is_period_model(node) -%}
        {%- set begin = node.config.get('etl_period_begin') -%}
        {%- set zone = var('etl_session_timezone', 'UTC') -%}
        {%- do models.append((node.unique_id,
            etl_session._parse_instant(begin | string, node.unique_id ~ ' etl_period_begin', zone)
            if begin is not none and begin | string | trim != '' else none)) -%}
    {%- endfor -%}
{%- endif -%}
{%- set ts = 'timestamptz' -%}

with attempts as (
    select
        r.node_id,
        s.session_id,
        s.period_start,
        s.period_end,
        case when s.status = 'success' and r.status = 'success' then 'loaded' else 'failed' end as state
    from {{ source('etl_session', 'sessions') }} as s
    join {{ source('etl_session', 'session_results') }} as r on r.session_id = s.session_id
    where (s.status = 'success' and r.status = 'success' or s.status = 'error')
      and r.node_id in (
        {%- for unique_id, _ in models -%}
            {{ etl_session._string(unique_id) }}{{ ', ' }}
        {%- endfor -%}
        {{ etl_session._string('') }})
),

beginnings as (
    {%- for unique_id, begin in models if begin is not none %}
    select {{ etl_session._string(unique_id) }} as node_id, {{ etl_session._typed_literal(begin, ts) }} as begin_at
    union all
    {%- endfor %}
    select node_id, min(period_start) as begin_at from attempts group by node_id
),

first_due as (
    select node_id, min(begin_at) as begin_at from beginnings group by node_id
),

bounds as (
    select node_id, period_start as bound from attempts
    union
    select node_id, period_end from attempts
    union
    select node_id, begin_at from first_due
    union
    select node_id, cast({{ dbt.current_timestamp() }} as {{ etl_session.type_timestamptz() }}) from first_due
),

stretches as (
    select node_id, bound as period_start, lead(bound) over (partition by node_id order by bound) as period_end
    from bounds
),

decided as (
    select
        g.node_id,
        g.period_start,
        g.period_end,
        max(a.session_id) as session_id,
        max(case when a.state = 'loaded' then a.session_id end) as live_session_id
    from stretches as g
    left join attempts as a
        on a.node_id = g.node_id and a.period_start <= g.period_start and g.period_end <= a.period_end
    where g.period_end is not null
    group by g.node_id, g.period_start, g.period_end
)

select
    d.node_id,
    d.period_start,
    d.period_end,
    coalesce(a.state, 'missing') as state,
    d.session_id,
    d.live_session_id
from decided as d
join first_due as f on f.node_id = d.node_id
left join attempts as a on a.node_id = d.node_id and a.session_id = d.session_id
where d.session_id is not null or (d.period_start >= f.begin_at and d.period_start < cast({{ dbt.current_timestamp() }} as {{ etl_session.type_timestamptz() }}))
