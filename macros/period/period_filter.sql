{%- macro period_filter(column, data_type='timestamp') -%}
    {{ return(adapter.dispatch('period_filter', 'etl_session')(column, data_type)) }}
{%- endmacro -%}

{%- macro default__period_filter(column, data_type='timestamp') -%}
    {#- Half-open and sargable: the column stands alone on the left, typed literals on the right. -#}
    {%- set ctx = etl_session._require_period('period_filter') -%}
    {%- if not ctx.has_period -%}
        {#- parse, compile, docs generate, ls without a period: valid SQL that selects nothing. -#}
        {{ return('(1 = 0 /* etl_session: no loading period given */)') }}
    {%- endif -%}
    {{ return(
        '(' ~ column ~ ' >= ' ~ etl_session._typed_literal(ctx.period_start, data_type)
        ~ ' and ' ~ column ~ ' < ' ~ etl_session._typed_literal(ctx.period_end, data_type) ~ ')'
    ) }}
{%- endmacro -%}
