{%- macro period_end(data_type='timestamp') -%}
    {{ return(adapter.dispatch('period_end', 'etl_session')(data_type)) }}
{%- endmacro -%}

{%- macro default__period_end(data_type='timestamp') -%}
    {%- set ctx = etl_session._require_period('period_end') -%}
    {%- if not ctx.has_period -%}
        {{ return('cast(null as ' ~ (etl_session.type_timestamptz() if data_type == 'timestamptz' else ('date' if data_type == 'date' else dbt.type_timestamp())) ~ ')') }}
    {%- endif -%}
    {{ return(etl_session._typed_literal(ctx.period_end, data_type)) }}
{%- endmacro -%}
