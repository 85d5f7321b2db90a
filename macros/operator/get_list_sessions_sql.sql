{%- macro get_list_sessions_sql(relation, status=none, target_name=none, started_from=none, started_before=none, limit=20) -%}
    {{ return(adapter.dispatch('get_list_sessions_sql', 'etl_session')(relation, status, target_name, started_from, started_before, limit)) }}
{%- endmacro -%}

{%- macro default__get_list_sessions_sql(relation, status=none, target_name=none, started_from=none, started_before=none, limit=20) -%}
    {#- The newest sessions first; each filter applies only when given. -#}
    select *
    from {{ relation }}
    where 1 = 1
    {%- if status is not none %}
      and status = {{ etl_session._string(status) }}
    {%- endif %}
    {%- if target_name is not none %}
      and target = {{ etl_session._string(target_name) }}
    {%- endif %}
    {%- if started_from is not none %}
      and started >= {{ etl_session._typed_literal(etl_session._parse_instant(started_from, 'started_from'), 'timestamptz') }}
    {%- endif %}
    {%- if started_before is not none %}
      and started < {{ etl_session._typed_literal(etl_session._parse_instant(started_before, 'started_before'), 'timestamptz') }}
    {%- endif %}
    order by started desc, session_id desc
    limit {{ etl_session._number(limit) }}
{%- endmacro -%}
