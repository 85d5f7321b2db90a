{%- macro get_coverage_results_sql(sessions, results, source, target_name, node_ids) -%}
    {{ return(adapter.dispatch('get_coverage_results_sql', 'etl_session')(sessions, results, source, target_name, node_ids)) }}
{%- endmacro -%}

{%- macro default__get_coverage_results_sql(sessions, results, source, target_name, node_ids) -%}
    {#- How each period model fared in each load of `source` on this target, as one text value:
        session_id,node_id,status per result, `;` between results. -#}
    {%- set row -%}
        cast(r.session_id as {{ dbt.type_string() }}) || ',' || r.node_id || ',' || r.status
    {%- endset -%}
    select {{ dbt.listagg(row, "';'") }}
    from {{ results }} r
    join {{ sessions }} s on s.session_id = r.session_id
    where s.source = {{ etl_session._string(source) }}
      and s.target = {{ etl_session._string(target_name) }}
      and r.node_id in (
        {%- for node_id in node_ids -%}
            {{ etl_session._string(node_id) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
      )
{%- endmacro -%}
