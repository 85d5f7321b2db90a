{%- macro _running_sessions(relation, project, target_name, exclude_run_id=none, period_start=none, period_end=none) -%}
    {#- The running sessions of a project and target as JSON-ready dicts, each marked `overlaps`
        when it overlaps [period_start, period_end) (for etl-run: who blocks, who may be dead). -#}
    {%- set found = etl_session._execute(etl_session.get_running_sessions_sql(relation, project, target_name)) -%}
    {%- set sessions = [] -%}
    {%- for row in found.rows -%}
        {%- if row[1] != exclude_run_id -%}
            {%- set bounds = [] -%}
            {%- for value in [row[4], row[5], row[6]] -%}
                {%- if value is string -%}
                    {%- set value = etl_session._parse_instant(value, 'period') -%}
                {%- elif value.tzinfo is none -%}
                    {%- set value = value.replace(tzinfo=modules.pytz.utc) -%}
                {%- endif -%}
                {%- do bounds.append(value.astimezone(modules.pytz.utc)) -%}
            {%- endfor -%}
            {%- do sessions.append({
                'session_id': row[0] | int,
                'run_id': row[1],
                'host': row[2],
                'pid': row[3] | int if row[3] is not none else none,
                'period_start': bounds[0].strftime('%Y-%m-%dT%H:%M:%SZ'),
                'period_end': bounds[1].strftime('%Y-%m-%dT%H:%M:%SZ'),
                'started': bounds[2].strftime('%Y-%m-%dT%H:%M:%SZ'),
                'overlaps': period_start is not none and bounds[0] < period_end and period_start < bounds[1],
                'liveness': row[7] if row | length > 7 else none,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(sessions) }}
{%- endmacro -%}
