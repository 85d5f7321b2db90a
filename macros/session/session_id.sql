{%- macro session_id() -%}
    {{ return(adapter.dispatch('session_id', 'etl_session')()) }}
{%- endmacro -%}

{%- macro default__session_id() -%}
    {#-
        The id of the running session, as a scalar subquery on the sessions table by run id.
        It runs inside the model's own statement and transaction: compiling a model sends no
        statement and no COMMIT on the model's connection, so its delete and insert stay atomic.
    -#}
    {%- do etl_session._guard('session_id') -%}
    {%- if etl_session._in_unit_test() -%}
        {#- Unit tests: the id comes from `overrides: vars: {etl_session_id: 42}`, else null. -#}
        {%- set given = var('etl_session_id', none) -%}
        {{ return('cast(' ~ (etl_session._number(given | int) if given is not none else 'null') ~ ' as ' ~ dbt.type_bigint() ~ ')') }}
    {%- endif -%}
    {%- set ctx = etl_session._require_period('session_id') -%}
    {%- if not ctx.has_period or not etl_session._is_load_command() -%}
        {{ return('cast(null as ' ~ dbt.type_bigint() ~ ')') }}
    {%- endif -%}
    {%- if not etl_session._has_open_hook() -%}
        {{ exceptions.raise_compiler_error(
            "etl_session.session_id() needs a session, and this project opens none: add "
            ~ "on-run-start: [\"{{ etl_session.open_session() }}\"] and "
            ~ "on-run-end: [\"{{ etl_session.close_session(results) }}\"] to dbt_project.yml"
        ) }}
    {%- endif -%}
    {%- if ctx.chunk_bounds -%}
        {#- Several chunks in one run (etl-run --per-run): each row gets the session of the chunk
            its period column falls in, which only the etl_period materialization knows: it
            fills the column this marker stands in (config etl_session_id_column). -#}
        {%- if not (model is defined and model is mapping and model.get('resource_type') == 'model'
                    and model.config.get('materialized') == 'etl_period') -%}
            {{ exceptions.raise_compiler_error(
                "etl_session.session_id() in " ~ (model.unique_id if model is defined and model is mapping else 'this node')
                ~ ": a run of several chunks (etl-run --per-run) stamps each chunk's session id only in "
                ~ "models with materialized='etl_period'; load one chunk per run (--per-run 1)") }}
        {%- endif -%}
        {%- if sql is string -%}
            {#- Rendered while the model runs (a pre- or post-hook), not in its query: no row
                there to find a chunk from. -#}
            {{ exceptions.raise_compiler_error(
                "etl_session.session_id() in a hook of " ~ model.unique_id ~ ": a run of several chunks "
                ~ "(etl-run --per-run) has one session per chunk, so a hook has none to name; load one "
                ~ "chunk per run (--per-run 1)") }}
        {%- endif -%}
        {{ return('cast(null as ' ~ dbt.type_bigint() ~ ') /* ' ~ etl_session._chunk_stamp_marker() ~ ' */') }}
    {%- endif -%}
    {{ return('cast((select s.session_id from ' ~ etl_session._sessions_relation()
        ~ ' as s where s.run_id = ' ~ etl_session._string(ctx.run_id) ~ ') as ' ~ dbt.type_bigint() ~ ')') }}
{%- endmacro -%}


{%- macro _has_open_hook() -%}
    {#- False only when the root project has no on-run-start hook at all (its hooks are graph
        nodes): then no session can exist. A hook that calls open_session through a wrapper
        macro of the user's cannot be told apart, so any on-run-start hook counts. -#}
    {{ return(graph.nodes.get('operation.' ~ project_name ~ '.' ~ project_name ~ '-on-run-start-0') is not none) }}
{%- endmacro -%}
