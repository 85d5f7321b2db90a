{#-
    materialized='etl_period' on Spark (and Databricks, EMR, Glue, which inherit spark__). The
    same contract as the default materialization, built from what Spark tables can do:

    - parquet and the other file formats of a Hive metastore (no DELETE, no transactions): the
      table is partitioned (`partition_by`, e.g. a date derived from the period column). A load
      rewrites only the partitions the period touches, with `insert overwrite` in dynamic
      partition mode (set on the table and for the statement, whatever the session has): each
      touched partition gets its rows outside the period back plus the model's rows of the
      period. Touched partitions left with no rows are dropped, so a period whose source rows
      vanished is cleared. Not atomic: a failure between the statements can leave a partition
      rewritten but an emptied one not yet dropped (the next load of the period repairs it).
    - delta: one atomic `insert into ... replace where <period>`; iceberg: `delete` then `insert`.

    The steps follow dbt's incremental materialization (hooks, grants, docs). Spark has no
    transactions: "inside the transaction" hooks run in the same order, without one.
-#}

{%- materialization etl_period, adapter='spark', supported_languages=['sql'] -%}

    {#- relations -#}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}

    {#- configs -#}
    {%- set settings = etl_session._period_config("materialized='etl_period'") -%}
    {%- set file_format = etl_session._spark_file_format() -%}
    {%- set row_level = file_format in ['delta', 'iceberg'] -%}
    {%- set partition_by = config.get('partition_by', none) -%}
    {%- set partition_by = ([partition_by] if partition_by is string else (partition_by or [])) | list -%}
    {%- if not row_level and not partition_by -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ": materialized='etl_period' on a " ~ file_format ~ " table needs partition_by "
            ~ "(Spark cannot delete rows from it, so a load replaces the partitions its period touches): add "
            ~ "config(partition_by=['<a date column derived from " ~ settings.column ~ ">']), or use file_format='delta'"
        ) }}
    {%- endif -%}
    {%- set full_refresh_mode = existing_relation is not none
        and (should_full_refresh() or not existing_relation.is_table) -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {%- set incremental_predicates = config.get('predicates', none)
        or config.get('incremental_predicates', none) -%}
    {%- if full_refresh_mode and existing_relation.is_table and not config.get('etl_period_begin') -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ": --full-refresh would rebuild the table from one period only and "
            ~ "lose its history: set config(etl_period_begin='<where its history begins>') or "
            ~ "config(full_refresh=false)"
        ) }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set after = [] -%}
    {%- if existing_relation is none or full_refresh_mode -%}
        {%- set query_columns = get_column_schema_from_query(sql, sql_header) -%}
        {%- set kind = etl_session._period_kind(settings, query_columns, "the model's query") -%}
        {%- set rows_sql = etl_session._period_rows_sql(sql, etl_session._period_filter_of(settings, kind)) -%}
        {%- if full_refresh_mode -%}
            {#- No transactional DDL on Spark: a failed rebuild leaves no table (the next load with
                --full-refresh builds it again from etl_period_begin). -#}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- set build_sql = etl_session._spark_create_period_table_sql(target_relation, rows_sql, file_format, partition_by, sql_header) -%}
    {%- else -%}
        {%- set dest_columns = adapter.get_columns_in_relation(existing_relation) -%}
        {%- set kind = etl_session._period_kind(settings, dest_columns, target_relation) -%}
        {%- set predicate = etl_session._period_filter_of(settings, kind) -%}
        {%- if row_level -%}
            {%- set build_sql = etl_session.get_script_sql(etl_session.get_replace_period_sql(
                target_relation, sql, dest_columns, predicate, incremental_predicates)) -%}
        {%- else -%}
            {#- The model's rows of the period, once, as a view of this connection's Spark session. -#}
            {%- set new_rows = api.Relation.create(identifier='etl_period_' ~ model.name ~ '_new', type='view') -%}
            {%- do run_query((sql_header ~ '\n' if sql_header else '') ~ 'create or replace temporary view ' ~ new_rows
                ~ ' as ' ~ etl_session._period_rows_sql(sql, predicate)) -%}
            {%- set emptied = run_query(etl_session._spark_emptied_partitions_sql(target_relation, new_rows, predicate, partition_by)) -%}
            {%- set overwrite_mode = run_query('set spark.sql.sources.partitionOverwriteMode').rows[0][1] -%}
            {#- Dynamic: only the partitions in the statement's rows are replaced. The table says so
                too (an option of the tables this materialization creates). -#}
            {%- do run_query('set spark.sql.sources.partitionOverwriteMode=dynamic') -%}
            {%- set build_sql = etl_session.get_replace_period_sql(target_relation, new_rows, dest_columns, predicate, incremental_predicates) -%}
            {%- if emptied.rows | length -%}
                {%- do after.append(etl_session._spark_drop_partitions_sql(target_relation, emptied, partition_by)) -%}
            {%- endif -%}
            {%- do after.append('set spark.sql.sources.partitionOverwriteMode=' ~ overwrite_mode) -%}
            {%- do after.append('drop view if exists ' ~ new_rows) -%}
        {%- endif -%}
    {%- endif -%}

    {% call statement('main') -%}
        {{ build_sql }}
    {%- endcall %}

    {%- for statement_sql in after -%}
        {%- do run_query(statement_sql) -%}
    {%- endfor -%}

    {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode) -%}
    {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke) -%}

    {%- do persist_docs(target_relation, model) -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}


{%- macro _spark_create_period_table_sql(relation, rows_sql, file_format, partition_by, sql_header=none) -%}
    {#- The first build: a table of the model's rows of the period. Non-row-level formats get
        dynamic partition overwrite as a table option, so no session setting can make a later
        `insert overwrite` wipe other partitions. -#}
    {{ sql_header if sql_header }}
    create table {{ relation }}
    using {{ file_format }}
    {%- if partition_by %}
    partitioned by ({{ partition_by | join(', ') }})
    {%- endif %}
    {%- if file_format not in ['delta', 'iceberg', 'hudi'] %}
    options ('partitionOverwriteMode' = 'dynamic')
    {%- endif %}
    as {{ rows_sql }}
{%- endmacro -%}


{%- macro _spark_same_partition(left, right, partition_by) -%}
    {%- set parts = [] -%}
    {%- for column in partition_by -%}
        {%- do parts.append(left ~ '.' ~ column ~ ' <=> ' ~ right ~ '.' ~ column) -%}
    {%- endfor -%}
    {{ return(parts | join(' and ')) }}
{%- endmacro -%}


{%- macro _spark_emptied_partitions_sql(target, new_rows, predicate, partition_by) -%}
    {#- The partitions that hold rows of the period now and will hold no row after the load. -#}
    {%- set columns = partition_by | join(', ') -%}
    select {{ columns }} from {{ target }} where {{ predicate }}
    except
    select {{ columns }} from {{ target }} where not coalesce({{ predicate }}, false)
    except
    select {{ columns }} from {{ new_rows }}
{%- endmacro -%}


{%- macro _spark_drop_partitions_sql(target, rows, partition_by) -%}
    {#- `alter table ... drop if exists partition (...), ...` for the partition values in `rows`. -#}
    {%- set specs = [] -%}
    {%- for row in rows.rows -%}
        {%- set parts = [] -%}
        {%- for column in partition_by -%}
            {%- set value = row[loop.index0] -%}
            {%- if value is none -%}
                {%- set parts = none -%}
            {%- elif parts is not none -%}
                {%- do parts.append(column ~ ' = ' ~ (value | string if (value is number and value is not boolean) else etl_session._string(value))) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if parts -%}
            {%- do specs.append('partition (' ~ parts | join(', ') ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('alter table ' ~ target ~ ' drop if exists ' ~ specs | join(', ') if specs else 'select 1') }}
{%- endmacro -%}
