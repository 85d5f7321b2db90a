{%- macro _typed_literal(instant, data_type) -%}
    {#-
        A typed literal for one period bound, for a column of `data_type`:
        'timestamp' (naive, read as UTC; the default), 'timestamptz', or 'date' (the first whole
        UTC day at or after the instant, so that `d >= start and d < end` keeps half-open semantics).
    -#}
    {%- set kind = (data_type or 'timestamp') | lower -%}
    {%- if kind == 'timestamp' -%}
        {{ return("cast('" ~ etl_session._utc_text(instant) ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- elif kind in ['timestamptz', 'timestamp with time zone'] -%}
        {{ return("cast('" ~ etl_session._utc_text(instant) ~ "+00:00' as " ~ etl_session.type_timestamptz() ~ ")") }}
    {%- elif kind == 'date' -%}
        {%- set utc = instant.astimezone(modules.pytz.utc) -%}
        {%- set day = utc.date() -%}
        {%- if utc.replace(tzinfo=none) > modules.datetime.datetime(day.year, day.month, day.day) -%}
            {%- set day = day + modules.datetime.timedelta(days=1) -%}
        {%- endif -%}
        {{ return("cast('" ~ day.isoformat() ~ "' as date)") }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: data_type " ~ data_type ~ " is not supported; use 'timestamp', 'timestamptz' or 'date'"
        ) }}
    {%- endif -%}
{%- endmacro -%}
