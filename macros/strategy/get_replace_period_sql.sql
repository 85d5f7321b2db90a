{%- macro get_replace_period_sql(target_relation, source, columns, period_predicate, incremental_predicates=none) -%}
    {#-
        The period replacement both routes share (the etl_period materialization and the
        etl_period incremental strategy): delete the target's rows of the period, then insert
        the source's rows of the period. `source` is a relation or the text of a select.
    -#}
    {{ return(adapter.dispatch('get_replace_period_sql', 'etl_session')(
        target_relation, source, columns, period_predicate, incremental_predicates)) }}
{%- endmacro -%}

{%- macro default__get_replace_period_sql(target_relation, source, columns, period_predicate, incremental_predicates=none) -%}
    {%- set column_list = columns | map(attribute='quoted') | join(', ') -%}
    {%- if source is string -%}
        {%- set source_sql = '(\n' ~ source ~ '\n) as etl_period_source' -%}
    {%- else -%}
        {%- set source_sql = source | string -%}
    {%- endif -%}
    delete from {{ target_relation }}
    where {{ period_predicate }}
    {%- for predicate in ([incremental_predicates] if incremental_predicates is string else (incremental_predicates or [])) %}
      and {{ predicate }}
    {%- endfor %};

    {#- Rows outside the period are never inserted: the period is the unit that is replaced. #}
    insert into {{ target_relation }} ({{ column_list }})
    select {{ column_list }}
    from {{ source_sql }}
    where {{ period_predicate }}
{%- endmacro -%}

{%- macro postgres__get_replace_period_sql(target_relation, source, columns, period_predicate, incremental_predicates=none) -%}
    {#- Postgres: first a lock that lets readers in but no other writer, held to the COMMIT. Two
        invocations may replace the same period at once (two joiners of one shared session, a
        retried task beside its zombie): under READ COMMITTED the second's delete cannot see the
        rows the first inserts and has not committed, so without it both inserts would stay and
        every row of the period would be there twice. With it the second waits, then deletes
        the first's rows. -#}
    lock table {{ target_relation }} in share row exclusive mode;
    {{ etl_session.default__get_replace_period_sql(target_relation, source, columns, period_predicate, incremental_predicates) }}
{%- endmacro -%}
