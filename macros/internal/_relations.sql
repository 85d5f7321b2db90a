{#- Where the package keeps its two tables; names and schema are configurable through vars. -#}

{%- macro _sessions_relation() -%}
    {{ return(api.Relation.create(
        database=var('etl_session_database', none) or (target.database if target.database is defined else none),
        schema=var('etl_session_schema', none) or target.schema,
        identifier=var('etl_sessions_table', 'etl_sessions'),
        type='table'
    )) }}
{%- endmacro -%}


{%- macro _results_relation() -%}
    {{ return(api.Relation.create(
        database=var('etl_session_database', none) or (target.database if target.database is defined else none),
        schema=var('etl_session_schema', none) or target.schema,
        identifier=var('etl_session_results_table', 'etl_session_results'),
        type='table'
    )) }}
{%- endmacro -%}
