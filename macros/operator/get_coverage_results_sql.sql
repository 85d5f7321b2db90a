{%- macro get_coverage_results_sql(sessions, results, source, target_name, node_ids) -%}
    {{ return(adapter.dispatch('get_coverage_results_sql', 'etl_session')(sessions, results, source, target_name, node_ids)) }}
{%- endmacro -%}

{%- macro default__get_coverage_results_sql(sessions, results, source, target_name, node_ids) -%}
    {#- How each period model fared in each load of `source` on this target. -#}
    select r.session_id, r.node_id, r.status
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
