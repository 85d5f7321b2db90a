{%- macro _period_predicate(column, data_type, column_timezone, ctx) -%}
    {#- `column >= <start> and column < <end>` for the period in `ctx` (see _typed_literal). -#}
    {%- set kind = etl_session._normalize_kind(data_type) -%}
    {%- if kind == 'timestamptz' and column_timezone -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: column_timezone " ~ column_timezone ~ " was given for " ~ column
            ~ ", a timestamp with time zone: it holds instants, leave column_timezone out"
        ) }}
    {%- endif -%}
    {{ return(
        '(' ~ column ~ ' >= ' ~ etl_session._typed_literal(ctx.period_start, kind, column_timezone, ctx.period_timezone)
        ~ ' and ' ~ column ~ ' < ' ~ etl_session._typed_literal(ctx.period_end, kind, column_timezone, ctx.period_timezone) ~ ')'
    ) }}
{%- endmacro -%}


{%- macro _guard(macro_name) -%}
    {#- Refuse a period macro in a persisted view or table (see _guard_persisted). -#}
    {%- if etl_session._guard_persisted is defined -%}
        {%- do etl_session._guard_persisted(macro_name) -%}
    {%- endif -%}
{%- endmacro -%}
