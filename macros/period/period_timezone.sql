{%- macro period_timezone() -%}
    {{ return(adapter.dispatch('period_timezone', 'etl_session')()) }}
{%- endmacro -%}

{%- macro default__period_timezone() -%}
    {#- The IANA name of the zone the period was stated in, as a SQL string literal ('UTC' unless
        etl-run --timezone, the var etl_period_timezone or etl_session_timezone says otherwise).
        For a model that buckets rows by local day so its days match the period's days. -#}
    {%- do etl_session._guard_persisted('period_timezone') -%}
    {%- set ctx = etl_session._context() -%}
    {{ return(etl_session._string(ctx.period_timezone)) }}
{%- endmacro -%}
