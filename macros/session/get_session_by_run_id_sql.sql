{%- macro get_session_by_run_id_sql(relation, run_id) -%}
    {{ return(adapter.dispatch('get_session_by_run_id_sql', 'etl_session')(relation, run_id)) }}
{%- endmacro -%}

{%- macro default__get_session_by_run_id_sql(relation, run_id) -%}
    {#- The session of a run id with what joining it needs: its status, how its owner's life is
        told (`liveness`: 'external' for a session opened by etl-session open) and its period. -#}
    select session_id, status, liveness, period_start, period_end, period_timezone, source,
           coalesce(project, source) as project, target, run_id
    from {{ relation }}
    where run_id = {{ etl_session._string(run_id) }}
{%- endmacro -%}
