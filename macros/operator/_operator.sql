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


{%- macro _session_stamped_models() -%}
    {#-
        The models whose rows carry a session_id: models of the project graph materialized as
        table or incremental whose relation exists and has a session_id column. A list of dicts
        (node_id, relation), in node id order.
    -#}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.resource_type == 'model' and node.config.get('materialized') in ['table', 'incremental'] -%}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias or node.name) -%}
            {%- if relation -%}
                {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
                {%- if 'session_id' in columns -%}
                    {%- do found.append({'node_id': node.unique_id, 'relation': relation}) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro -%}
