{%- macro spark__get_list_sessions_sql(relation, status=none, target_name=none, started_from=none, started_before=none, limit=20) -%}
    {#- Spark: refreshed, timestamps as UTC; otherwise the default's filters. -#}
    {{ etl_session._spark_refresh_sql() }}
    select {{ etl_session._spark_session_columns('s') }}
    from {{ relation }} as s
    where 1 = 1
    {%- if status is not none %}
      and s.status = {{ etl_session._string(status) }}
    {%- endif %}
    {%- if target_name is not none %}
      and s.target = {{ etl_session._string(target_name) }}
    {%- endif %}
    {%- if started_from is not none %}
      and s.started >= {{ etl_session._typed_literal(etl_session._parse_instant(started_from, 'started_from'), 'timestamptz') }}
    {%- endif %}
    {%- if started_before is not none %}
      and s.started < {{ etl_session._typed_literal(etl_session._parse_instant(started_before, 'started_before'), 'timestamptz') }}
    {%- endif %}
    order by s.started desc, s.session_id desc
    limit {{ etl_session._number(limit) }}
{%- endmacro -%}
