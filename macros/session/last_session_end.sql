{%- macro last_session_end(source=none) -%}
    {#-
        Announce the end of the last successful session for `source` (default: the project
        name) and the current target, or null: etl-run continues from there without --period.
    -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set period_end = none -%}
    {%- if adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) -%}
        {%- set found = etl_session._execute(etl_session.get_last_session_end_sql(sessions, source or project_name, target.name)) -%}
        {%- set value = found.rows[0][0] if found.rows | length else none -%}
        {%- if value is not none -%}
            {%- if value is string -%}
                {%- set value = etl_session._parse_instant(value, 'period_end') -%}
            {%- elif value.tzinfo is none -%}
                {%- set value = value.replace(tzinfo=modules.pytz.utc) -%}
            {%- endif -%}
            {%- set period_end = value.astimezone(modules.pytz.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ') -%}
        {%- endif -%}
    {%- endif -%}
    {%- do etl_session._announce('last_session_end', {'period_end': period_end}) -%}
{%- endmacro -%}
