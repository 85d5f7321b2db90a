{%- macro last_session_end(source=none, nodes=none) -%}
    {#-
        Announce where the next load of `source` (default: the project name) on the current
        target continues when no --period is given: `period_end`, the end of the last
        successful session, and, when `nodes` (unique ids of the selected period models) are
        given, `nodes`: for each of them the end of the last successful session in which that
        node succeeded, or null when it never did. etl-run starts at the earliest of these, so a
        partial load (-s one_model) never makes the other models skip its period.
    -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set results = etl_session._results_relation() -%}
    {%- set source = source or project_name -%}
    {%- set period_end = none -%}
    {%- set node_ends = {} -%}
    {%- for node_id in nodes or [] -%}
        {%- do node_ends.update({node_id | string: none}) -%}
    {%- endfor -%}
    {%- if adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) -%}
        {%- set found = etl_session._execute(etl_session.get_last_session_end_sql(sessions, source, target.name)) -%}
        {%- set period_end = etl_session._iso_utc(found.rows[0][0] if found.rows | length else none) -%}
        {%- if node_ends and adapter.get_relation(results.database, results.schema, results.identifier) -%}
            {%- set found = etl_session._execute(etl_session.get_last_node_ends_sql(
                sessions, results, source, target.name, node_ends.keys() | list)) -%}
            {%- for row in found.rows -%}
                {%- do node_ends.update({row[0] | string: etl_session._iso_utc(row[1])}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- do etl_session._announce('last_session_end', {'period_end': period_end, 'nodes': node_ends}) -%}
{%- endmacro -%}


{%- macro _iso_utc(value) -%}
    {#- A timestamp read back from the warehouse as 'YYYY-MM-DDTHH:MM:SS.ffffffZ', or none. -#}
    {%- if value is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if value is string -%}
        {%- set value = etl_session._parse_instant(value, 'period_end') -%}
    {%- elif value.tzinfo is none -%}
        {%- set value = value.replace(tzinfo=modules.pytz.utc) -%}
    {%- endif -%}
    {{ return(value.astimezone(modules.pytz.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')) }}
{%- endmacro -%}
