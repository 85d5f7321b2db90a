{#- Private helpers of the operator macros (list_sessions, show_session, cleanup_session). -#}

{%- macro _json_value(value) -%}
    {#-
        A value from a query result that survives tojson: timestamps as ISO 8601 UTC text with
        a Z, decimals as floats; text, integers, booleans and null as they are.
    -#}
    {%- if value is none or value is boolean or value is string or value is integer -%}
        {{ return(value) }}
    {%- elif value is number -%}
        {{ return(value | float) }}
    {%- elif value.astimezone is defined -%}
        {%- set aware = value if value.tzinfo is not none else value.replace(tzinfo=modules.pytz.utc) -%}
        {%- set utc = aware.astimezone(modules.pytz.utc) -%}
        {%- set fraction = ('.%06d' | format(utc.microsecond)) if utc.microsecond else '' -%}
        {{ return(utc.strftime('%Y-%m-%dT%H:%M:%S') ~ fraction ~ 'Z') }}
    {%- elif value.isoformat is defined -%}
        {{ return(value.isoformat()) }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro -%}


{%- macro _json_rows(table) -%}
    {#- The rows of a query result as a list of dicts keyed by column name, ready for tojson. -#}
    {%- set rows = [] -%}
    {%- for row in table.rows -%}
        {%- set item = {} -%}
        {%- for name in table.column_names -%}
            {%- do item.update({name | lower: etl_session._json_value(row[loop.index0])}) -%}
        {%- endfor -%}
        {%- do rows.append(item) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro -%}


{%- macro _relation_name(relation) -%}
    {#- schema.table, the way an operator names a table in a message. -#}
    {{ return(relation.schema ~ '.' ~ relation.identifier) }}
{%- endmacro -%}


{%- macro _session_stamped_models(session, node_ids=none) -%}
    {#-
        Where a cleanup of `session` (a row of the sessions table) may delete, as a list of dicts
        (node_id, relation, predicate or none, skipped: the reason it may not, or none), in node
        id order. Candidates are the models that stamp the package's session ids: `node_ids`
        (etl-session passes them, found in the manifest, through macros too), else the models of
        the graph whose depends_on.macros holds etl_session.session_id. Never a model found by its
        column name. A candidate is skipped when its relation is missing or a view, when it has
        no session_id column, or when the session's per-node results say it did not write
        (status other than success; a session without any model result, killed or closed from
        outside, may have written to every candidate). With an etl_period_column, only rows in
        the session's period count (a full refresh rebuilt the whole table: all its rows).
    -#}
    {%- set wanted = [] -%}
    {%- if node_ids is none -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and 'macro.etl_session.session_id' in (node.depends_on.macros or []) -%}
                {%- do wanted.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {%- set wanted = node_ids | list -%}
    {%- endif -%}

    {%- set results = etl_session._results_relation() -%}
    {%- set wrote = {} -%}
    {%- if adapter.get_relation(results.database, results.schema, results.identifier) -%}
        {%- for row in etl_session._json_rows(etl_session._execute(etl_session.get_session_results_sql(results, session.session_id))) -%}
            {%- if row.resource_type == 'model' -%}
                {%- do wrote.update({row.node_id: row.status}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set zone = session.get('period_timezone') or 'UTC' -%}
    {%- set ctx = {
        'period_start': etl_session._parse_instant(session.period_start, 'period_start'),
        'period_end': etl_session._parse_instant(session.period_end, 'period_end'),
        'period_timezone': zone} -%}

    {%- set found = [] -%}
    {%- for node_id in wanted | unique | sort -%}
        {%- set node = graph.nodes.get(node_id) -%}
        {%- set item = {'node_id': node_id, 'relation': none, 'predicate': none, 'skipped': none} -%}
        {%- do found.append(item) -%}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias or node.name) if node else none -%}
        {%- if node is none -%}
            {%- do item.update({'skipped': 'not a model of this project'}) -%}
        {%- elif relation is none -%}
            {%- do item.update({'relation': node.schema ~ '.' ~ (node.alias or node.name), 'skipped': 'no such table'}) -%}
        {%- else -%}
            {%- do item.update({'relation': relation}) -%}
            {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
            {%- set column = node.config.get('etl_period_column') -%}
            {%- set refreshed = session.get('full_refresh') in [true, 'true', 1] and node.config.get('full_refresh') is not false -%}
            {%- if relation.is_view -%}
                {%- do item.update({'skipped': 'a view stores no rows'}) -%}
            {%- elif 'session_id' not in columns -%}
                {%- do item.update({'skipped': 'no session_id column'}) -%}
            {%- elif wrote and wrote.get(node_id) != 'success' -%}
                {%- do item.update({'skipped': 'the session did not write to it (' ~ (wrote.get(node_id) or 'not run') ~ ')'}) -%}
            {%- elif column and not refreshed -%}
                {%- set kind = etl_session._check_declared_kind(
                    node.config.get('etl_period_data_type'), etl_session._column_kind(relation, column),
                    node_id ~ "'s etl_period_column " ~ column) -%}
                {%- set column_timezone = node.config.get('etl_period_column_timezone') -%}
                {%- if kind == 'date' and not etl_session._at_local_midnights(ctx, column_timezone or zone) -%}
                    {%- do item.update({'skipped': 'the period is not whole days of ' ~ (column_timezone or zone) ~ ': the session could not load this date column'}) -%}
                {%- else -%}
                    {%- do item.update({'predicate': etl_session._period_predicate(column, kind, column_timezone, ctx)}) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro -%}


{%- macro _at_local_midnights(ctx, zone_name) -%}
    {#- Whether both bounds of the period are midnights in the zone (a date column can hold it). -#}
    {%- set tz = etl_session._zone(zone_name, 'the period time zone') -%}
    {%- for bound in [ctx.period_start, ctx.period_end] -%}
        {%- set local = bound.astimezone(tz) -%}
        {%- if local.hour or local.minute or local.second or local.microsecond -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro -%}


{%- macro _sessions_table() -%}
    {#-
        The sessions table when it exists (with the columns this package version writes added
        when an older version created it), else none.
    -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set found = adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) -%}
    {%- if not found -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(found) | map(attribute='name') | map('lower') | list -%}
    {%- if 'closed_by' not in columns or 'liveness' not in columns or 'period_timezone' not in columns -%}
        {%- do etl_session.create_session_tables() -%}
    {%- endif -%}
    {{ return(sessions) }}
{%- endmacro -%}


{%- macro _session_owners(sessions, session_id=none) -%}
    {#- {session_id: 'alive' | 'dead' | 'unknown'} for the running sessions (or the one given). -#}
    {%- set owners = {} -%}
    {%- for row in etl_session._execute(etl_session.get_session_owners_sql(sessions, session_id)).rows -%}
        {%- do owners.update({row[0] | int: row[2] | string}) -%}
    {%- endfor -%}
    {{ return(owners) }}
{%- endmacro -%}


{%- macro _sweep_dead_sessions(sessions) -%}
    {#-
        Closes every running session whose owner is known to be gone (get_session_owners_sql)
        as `error`, closed_by 'abandoned'. A live owner, or one that cannot be checked, is never
        touched. Returns the ids it closed.
    -#}
    {%- set dead = [] -%}
    {%- for session_id, owner in etl_session._session_owners(sessions).items() -%}
        {%- if owner == 'dead' -%}
            {%- do dead.append(session_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if dead -%}
        {%- do etl_session._execute(etl_session.get_close_running_session_sql(
            sessions, dead | sort,
            'abandoned: the process that ran this load is gone (found by etl-session)',
            'abandoned')) -%}
    {%- endif -%}
    {{ return(dead | sort) }}
{%- endmacro -%}
