{%- macro _guard_persisted(macro_name) -%}
    {#-
        Refuse a period macro in a model materialized as a view or a table: the period would be
        baked into a persisted relation that other models and people read, showing one period to
        all of them, and the next load of another period would replace it. Period models
        (etl_period materialization or strategy), other incremental and ephemeral models,
        tests, unit tests, hooks and operations are allowed. A node opts in with
        `etl_period_allow_persisted: true`. Checked at execution time only (compile, run, ...),
        when the node's final config is known.
    -#}
    {%- if not execute or model is not defined or model is not mapping -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if model.get('resource_type') != 'model' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node_config = model.get('config') or {} -%}
    {%- set materialized = node_config.get('materialized') -%}
    {%- if materialized == 'ephemeral' -%}
        {#- An ephemeral model is compiled into whatever reads it: a persisted view or table
            reading it would hold the period all the same. -#}
        {%- set reader = etl_session._persisted_reader(model.get('unique_id')) -%}
        {%- if reader is not none -%}
            {{ exceptions.raise_compiler_error(
                "etl_session." ~ macro_name ~ "() in ephemeral " ~ model.get('unique_id') ~ " is read by "
                ~ reader.unique_id ~ ", materialized as a " ~ reader.config.get('materialized')
                ~ ": the period would be baked into it (it would show only the last loaded period). "
                ~ "Read " ~ model.get('name') ~ " only from period models (materialized='etl_period'), "
                ~ "or keep it whole and limit it with period_ref where a period model reads it, or set "
                ~ "config(etl_period_allow_persisted=true) on " ~ reader.name ~ " if it really should hold one period"
            ) }}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if materialized not in ['view', 'table', 'materialized_view'] -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if node_config.get('etl_period_allow_persisted') in [true, 'true', 'True'] -%}
        {{ return(none) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "etl_session." ~ macro_name ~ "() in " ~ model.get('unique_id') ~ ", materialized as a "
        ~ materialized ~ ": the period would be baked into a persisted " ~ materialized
        ~ " that everyone reads (it would show only the last loaded period). Keep "
        ~ model.get('name') ~ " whole and limit its rows where a period model reads it: "
        ~ "from {{ etl_session.period_ref('" ~ model.get('name') ~ "') }} (or period_source for "
        ~ "a source) in a period model (materialized='etl_period' or incremental_strategy='etl_period'); or make " ~ model.get('name')
        ~ " ephemeral; or set config(etl_period_allow_persisted=true) if it really should hold one period"
    ) }}
{%- endmacro -%}
