{%- macro spark__get_last_node_ends_sql(sessions, results, source, target_name, node_ids) -%}
    {#- Spark: refreshed, the ends as UTC. -#}
    {{ etl_session._spark_refresh_sql() }}
    select r.node_id, {{ etl_session._spark_utc('max(s.period_end)') }}
    from {{ sessions }} s
    join {{ results }} r on r.session_id = s.session_id
    where s.source = {{ etl_session._string(source) }}
      and s.target = {{ etl_session._string(target_name) }}
      and s.status = 'success'
      and r.status = 'success'
      and r.node_id in (
        {%- for node_id in node_ids -%}
            {{ etl_session._string(node_id) }}{{ ', ' if not loop.last }}
        {%- endfor -%}
      )
    group by r.node_id
{%- endmacro -%}
