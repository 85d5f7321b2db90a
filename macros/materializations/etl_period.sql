{#-
    materialized='etl_period': a table that holds every period loaded so far, where a load
    replaces exactly its period. The first build creates the table from the model's rows of the
    period. Later builds, in one transaction with the model's pre- and post-hooks, delete the
    target's rows of the period and insert the model's rows of the period straight from its
    query (no staging copy). The steps follow dbt's own incremental materialization.
-#}

{%- materialization etl_period, default, supported_languages=['sql'] -%}

    {#- relations -#}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}

    {#- configs -#}
    {%- set settings = etl_session._period_config("materialized='etl_period'") -%}
    {%- set full_refresh_mode = existing_relation is not none
        and (should_full_refresh() or not existing_relation.is_table) -%}
    {%- set on_schema_change = incremental_validate_on_schema_change(
        config.get('on_schema_change'), default='ignore') -%}
    {%- set contract_config = config.get('contract') -%}
    {%- set contract_enforced = contract_config is not none and contract_config.enforced -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {%- set incremental_predicates = config.get('predicates', none)
        or config.get('incremental_predicates', none) -%}
    {%- set to_drop = [] -%}
    {%- if full_refresh_mode and existing_relation.is_table and not config.get('etl_period_begin') -%}
        {#- open_session refuses this before anything runs; this covers projects without the hook. -#}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ": --full-refresh would rebuild the table from one period only and "
            ~ "lose its history: set config(etl_period_begin='<where its history begins>') or "
            ~ "config(full_refresh=false)"
        ) }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}

    {#- `BEGIN` happens here: -#}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing_relation is none or full_refresh_mode -%}
        {#- First build, or a rebuild under --full-refresh (the session's period was widened to
            [etl_period_begin, end) for this node): a table of the model's rows of the period. -#}
        {%- set query_columns = get_column_schema_from_query(sql, sql_header) -%}
        {%- set kind = etl_session._period_kind(settings, query_columns, "the model's query") -%}
        {%- set rows_sql = etl_session._period_rows_sql(
            etl_session._chunk_stamped_sql(sql, query_columns, settings, kind), etl_session._period_filter_of(settings, kind)) -%}
        {%- if full_refresh_mode -%}
            {#- Dropped in the transaction (Postgres and DuckDB have transactional DDL), so a
                failed rebuild keeps the old table; no rename, which DuckDB refuses for a table
                with indexes. -#}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- set build_sql = get_create_table_as_sql(False, target_relation, rows_sql) -%}
    {%- else -%}
        {%- if contract_enforced -%}
            {#- The model's query must still match its contract: the target keeps its DDL. -#}
            {%- do get_assert_columns_equivalent(sql) -%}
        {%- endif -%}
        {%- set dest_columns = none -%}
        {%- if on_schema_change != 'ignore' -%}
            {#- dbt's schema-change helpers compare relations: an empty table shaped like the
                query is enough (the rows still go straight from the query to the target). -#}
            {%- set temp_relation = make_temp_relation(target_relation) -%}
            {%- do run_query(get_create_table_as_sql(True, temp_relation, get_empty_subquery_sql(sql))) -%}
            {%- do to_drop.append(temp_relation) -%}
            {%- if not contract_enforced -%}
                {%- do adapter.expand_target_column_types(from_relation=temp_relation, to_relation=target_relation) -%}
            {%- endif -%}
            {%- set dest_columns = process_schema_changes(on_schema_change, temp_relation, existing_relation) -%}
        {%- endif -%}
        {%- if not dest_columns -%}
            {%- set dest_columns = etl_session.get_period_target_columns(existing_relation) -%}
        {%- endif -%}
        {%- set kind = etl_session._period_kind(settings, dest_columns, target_relation) -%}
        {%- set build_sql = (sql_header ~ '\n' if sql_header else '') ~ etl_session.get_replace_period_sql(
            target_relation, etl_session._chunk_stamped_sql(sql, dest_columns, settings, kind), dest_columns,
            etl_session._period_filter_of(settings, kind),
            incremental_predicates) -%}
    {%- endif -%}

    {% call statement('main') -%}
        {{ build_sql }}
    {%- endcall %}

    {%- if existing_relation is none or full_refresh_mode -%}
        {%- do create_indexes(target_relation) -%}
    {%- endif -%}

    {#- Both are no-ops without their configs (dbt's own macros check them first); checked here,
        a reload without them skips two dispatches. -#}
    {%- if grant_config -%}
        {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode) -%}
        {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke) -%}
    {%- endif -%}

    {%- if config.persist_relation_docs() or config.persist_column_docs() -%}
        {%- do persist_docs(target_relation, model) -%}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {#- `COMMIT` happens here -#}
    {%- do adapter.commit() -%}

    {%- for relation in to_drop -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor -%}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}


{%- macro _period_rows_sql(sql, period_predicate) -%}
    {#- The model's rows of the period: its query, filtered on the period column. -#}
    {{ return('select * from (\n' ~ sql ~ '\n) as etl_period_model\nwhere ' ~ period_predicate) }}
{%- endmacro -%}
