{%- macro period_end(data_type='timestamp', column_timezone=none) -%}
    {{ return(adapter.dispatch('period_end', 'etl_session')(data_type, column_timezone)) }}
{%- endmacro -%}

{%- macro default__period_end(data_type='timestamp', column_timezone=none) -%}
    {#- The period's end (exclusive) as a typed literal (see period_filter for the types). -#}
    {%- do etl_session._guard('period_end') -%}
    {%- set ctx = etl_session._require_period('period_end') -%}
    {%- if not ctx.has_period -%}
        {{ return(etl_session._null_of_kind(data_type)) }}
    {%- endif -%}
    {{ return(etl_session._typed_literal(ctx.period_end, data_type, column_timezone, ctx.period_timezone)) }}
{%- endmacro -%}
