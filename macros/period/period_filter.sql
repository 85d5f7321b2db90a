{%- macro period_filter(column, data_type=none, column_timezone=none) -%}
    {{ return(adapter.dispatch('period_filter', 'etl_session')(column, data_type, column_timezone)) }}
{%- endmacro -%}

{%- macro default__period_filter(column, data_type=none, column_timezone=none) -%}
    {#- Half-open and sargable: the column stands alone on the left, typed literals on the right. -#}
    {%- do etl_session._guard('period_filter') -%}
    {%- set ctx = etl_session._require_period('period_filter') -%}
    {%- if not ctx.has_period -%}
        {%- if etl_session._in_unit_test() -%}
            {#- A unit test without a period: its fixtures decide what the model sees. -#}
            {{ return('(1 = 1 /* etl_session: unit test without a period */)') }}
        {%- endif -%}
        {#- parse, compile, docs generate, ls without a period: valid SQL that selects nothing. -#}
        {{ return('(1 = 0 /* etl_session: no loading period given */)') }}
    {%- endif -%}
    {{ return(etl_session._period_predicate(column, data_type, column_timezone, ctx)) }}
{%- endmacro -%}
