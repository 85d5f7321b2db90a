{#- The shared body of period_ref and period_source: a relation limited to the period. -#}

{%- macro _period_relation(relation, node, what, column, data_type, column_timezone) -%}
    {#-
        `(select * from <relation> where <period_filter>)`. `node` is the referenced node as in
        `graph` (none when it cannot be found): its `event_time` config gives the column when
        `column` is not given, its `etl_period_column_timezone` config the column's zone. The
        column's type is read from the relation (`_column_kind`) and checked against `data_type`.
    -#}
    {%- if not execute -%}
        {#- Parse time: only the dependency (ref/source, called by the caller) matters. -#}
        {{ return('(select * from ' ~ relation ~ ' where 1 = 0)') }}
    {%- endif -%}
    {%- if etl_session._in_unit_test() and not etl_session._unit_test_has_period() -%}
        {#- A unit test that sets no period of its own: its fixture rows are used whole, whatever
            period the surrounding load (etl-run's environment) has. -#}
        {{ return('(select * from ' ~ relation ~ ' where (1 = 1 /* etl_session: unit test without a period */))') }}
    {%- endif -%}
    {%- set node_config = (node.get('config') or {}) if node is mapping else {} -%}
    {%- set column = column or node_config.get('event_time') -%}
    {%- if not column and etl_session._in_unit_test() -%}
        {{ exceptions.raise_compiler_error(
            "etl_session." ~ what ~ " in unit test " ~ model.get('name') ~ ": dbt gives unit tests no graph, so the "
            ~ "event_time of " ~ relation ~ " cannot be read there; pass column='<its event_time column>' "
            ~ "to " ~ what.split('(')[0] ~ ", or leave etl_period_start/etl_period_end out of the unit test's "
            ~ "overrides: vars: (then the fixture rows are used whole)"
        ) }}
    {%- endif -%}
    {%- if not column -%}
        {{ exceptions.raise_compiler_error(
            "etl_session." ~ what ~ ": no column to limit to the period: set dbt's event_time config on "
            ~ ((node.get('unique_id') if node is mapping else none) or relation)
            ~ " (yml: config: {event_time: <the column holding each row's time>}) or pass column='<column>'"
        ) }}
    {%- endif -%}
    {%- set column = etl_session._unqualified_column(relation, column) -%}
    {%- if column_timezone is none -%}
        {%- set column_timezone = node_config.get('etl_period_column_timezone')
            or (node_config.get('meta') or {}).get('etl_period_column_timezone') -%}
    {%- endif -%}
    {%- set real = etl_session._column_kind(relation, column) -%}
    {%- set kind = etl_session._check_declared_kind(data_type, real, what ~ " column " ~ column ~ " of " ~ relation) -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ etl_session.period_filter(column, kind, column_timezone) ~ ')') }}
{%- endmacro -%}


{%- macro _graph_node(resource_types, name, source_name=none) -%}
    {#- The graph node a ref/source names, preferring the calling node's package, then the
        root project (dbt's own resolution order); none when it is not found. -#}
    {%- if not execute or graph is not defined -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = [] -%}
    {%- set nodes = (graph.get('sources') if source_name is not none else graph.get('nodes')) or {} -%}
    {%- for node in nodes.values() -%}
        {%- if node.resource_type in resource_types and node.name == name
            and (source_name is none or node.source_name == source_name) -%}
            {%- do found.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set here = model.get('package_name') if (model is defined and model is mapping) else none -%}
    {%- for package in [here, project_name] -%}
        {%- for node in found -%}
            {%- if node.package_name == package -%}
                {{ return(node) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(found[0] if found else none) }}
{%- endmacro -%}


{%- macro _unit_test_has_period() -%}
    {#- Whether the unit test being run sets a period in its own `overrides: vars:`. -#}
    {%- set given = ((model.get('overrides') or {}).get('vars') or {}) if model is mapping else {} -%}
    {{ return(given.get('etl_period_start') is not none or given.get('etl_period_end') is not none) }}
{%- endmacro -%}
