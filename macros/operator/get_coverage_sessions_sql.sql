{%- macro get_coverage_sessions_sql(sessions, source, target_name) -%}
    {{ return(adapter.dispatch('get_coverage_sessions_sql', 'etl_session')(sessions, source, target_name)) }}
{%- endmacro -%}

{%- macro default__get_coverage_sessions_sql(sessions, source, target_name) -%}
    {#- Every load of `source` on this target, oldest first, as one text value (one row per load,
        `;` between loads): session_id,status,period_start,period_end,started,full_refresh with
        the instants as microseconds since the epoch and full_refresh as T or F. One value, not
        one row per load: reading 10,000 rows through dbt's Jinja costs seconds. -#}
    {%- set row -%}
        cast(session_id as {{ dbt.type_string() }}) || ',' || status
        || ',' || cast({{ etl_session.get_epoch_microseconds_sql('period_start') }} as {{ dbt.type_string() }})
        || ',' || cast({{ etl_session.get_epoch_microseconds_sql('period_end') }} as {{ dbt.type_string() }})
        || ',' || cast({{ etl_session.get_epoch_microseconds_sql('started') }} as {{ dbt.type_string() }})
        || ',' || case when full_refresh then 'T' else 'F' end
    {%- endset -%}
    select {{ dbt.listagg(row, "';'", 'order by started, session_id') }}
    from {{ sessions }}
    where source = {{ etl_session._string(source) }}
      and target = {{ etl_session._string(target_name) }}
      and period_start is not null and period_end is not null
{%- endmacro -%}
