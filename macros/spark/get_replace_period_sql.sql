{%- macro spark__get_replace_period_sql(target_relation, source, columns, period_predicate, incremental_predicates=none, file_format=none) -%}
    {#- Spark: by the table's file_format (see the etl_period materialization for Spark).
        `source` is the text of a select (delta, iceberg) or, for partitioned parquet, the
        relation that holds the model's rows of the period. -#}
    {{ return(etl_session._spark_replace_period_sql(target_relation, source, columns, period_predicate,
        incremental_predicates, file_format or etl_session._spark_file_format())) }}
{%- endmacro -%}

{%- macro databricks__get_replace_period_sql(target_relation, source, columns, period_predicate, incremental_predicates=none, file_format=none) -%}
    {#- Databricks: tables are Delta unless file_format says otherwise. -#}
    {{ return(etl_session._spark_replace_period_sql(target_relation, source, columns, period_predicate,
        incremental_predicates, file_format or (config.get('file_format', none) or 'delta') | lower)) }}
{%- endmacro -%}


{%- macro _spark_replace_period_sql(target_relation, source, columns, period_predicate, incremental_predicates, file_format) -%}
    {%- set column_list = columns | map(attribute='quoted') | join(', ') -%}
    {%- set source_sql = ('(\n' ~ source ~ '\n) as etl_period_source') if source is string else (source | string) -%}
    {%- set narrowed = [period_predicate] -%}
    {%- for predicate in ([incremental_predicates] if incremental_predicates is string else (incremental_predicates or [])) -%}
        {%- do narrowed.append(predicate) -%}
    {%- endfor -%}
    {%- if file_format == 'delta' -%}
        {#- Delta: one atomic commit replaces exactly the rows matching the period. -#}
        {{ return('insert into ' ~ target_relation ~ ' replace where ' ~ narrowed | join(' and ')
            ~ '\nselect ' ~ column_list ~ '\nfrom ' ~ source_sql ~ '\nwhere ' ~ period_predicate) }}
    {%- elif file_format in ['iceberg', 'hudi'] -%}
        {#- Iceberg: row-level delete, then insert (two commits). -#}
        {{ return('delete from ' ~ target_relation ~ ' where ' ~ narrowed | join(' and ') ~ ';\n'
            ~ 'insert into ' ~ target_relation ~ ' (' ~ column_list ~ ')\nselect ' ~ column_list
            ~ '\nfrom ' ~ source_sql ~ '\nwhere ' ~ period_predicate) }}
    {%- endif -%}
    {#- Partitioned parquet (and the other Hive formats): rewrite the touched partitions, each
        with its rows outside the period plus the new rows of the period. -#}
    {%- if incremental_predicates -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: incremental_predicates need a Delta or Iceberg table on Spark (a " ~ file_format
            ~ " table is replaced by whole partitions)") }}
    {%- endif -%}
    {%- set partition_by = config.get('partition_by', none) -%}
    {%- set partition_by = ([partition_by] if partition_by is string else (partition_by or [])) | list -%}
    {%- set lowered = partition_by | map('lower') | list -%}
    {%- set data_columns = [] -%}
    {%- for column in columns -%}
        {%- if column.name | lower not in lowered -%}
            {%- do data_columns.append(column.quoted) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set ordered = (data_columns + partition_by) | join(', ') -%}
    {%- set touched = 'select ' ~ partition_by | join(', ') ~ ' from ' ~ target_relation ~ ' where ' ~ period_predicate
        ~ ' union select ' ~ partition_by | join(', ') ~ ' from ' ~ source_sql -%}
    insert overwrite table {{ target_relation }} partition ({{ partition_by | join(', ') }})
    select {{ ordered }}
    from {{ target_relation }} as etl_period_kept
    left semi join ({{ touched }}) as etl_period_touched
        on {{ etl_session._spark_same_partition('etl_period_kept', 'etl_period_touched', partition_by) }}
    where not coalesce({{ period_predicate }}, false)
    union all
    select {{ ordered }}
    from {{ source_sql }}
{%- endmacro -%}
