{#-
    Typed literals for the period's bounds, exact for the column's real type:

    - 'timestamptz'  an instant: the literal carries its +00:00 offset, so the connection's
                     TimeZone/PGTZ/TZ cannot shift it.
    - 'timestamp'    naive, holding UTC (the default) or, with `column_timezone`, holding local
                     wall-clock time of that zone: the bound is the first wall-clock value whose
                     instant is at or after the bound. A repeated wall-clock hour (clocks go back)
                     is read as its first occurrence; wall-clock values that never happen (clocks
                     go forward) count as the instant of the change.
    - 'date'         the local dates of the period's zone (or of `column_timezone`): the bound
                     must be a local midnight there; a date cannot hold part of a day.
-#}

{%- macro _normalize_kind(data_type) -%}
    {%- set kind = (data_type or 'timestamp') | string | lower | trim -%}
    {%- if kind in ['timestamptz', 'timestamp with time zone'] -%}
        {{ return('timestamptz') }}
    {%- elif kind in ['timestamp', 'timestamp without time zone'] -%}
        {{ return('timestamp') }}
    {%- elif kind == 'date' -%}
        {{ return('date') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "etl_session: data_type " ~ data_type ~ " is not supported; use 'timestamp', 'timestamptz' or 'date'"
    ) }}
{%- endmacro -%}


{%- macro _earliest_instant(naive, tz) -%}
    {#- The earliest instant a wall-clock value of `tz` stands for (aware, UTC). -#}
    {%- set a = tz.normalize(tz.localize(naive, is_dst=true)).astimezone(modules.pytz.utc) -%}
    {%- set b = tz.normalize(tz.localize(naive, is_dst=false)).astimezone(modules.pytz.utc) -%}
    {{ return(a if a < b else b) }}
{%- endmacro -%}


{%- macro _wall_clock(instant, tz) -%}
    {{ return(instant.astimezone(tz).replace(tzinfo=none)) }}
{%- endmacro -%}


{%- macro _wall_clock_bound(instant, tz) -%}
    {#- The smallest wall-clock value of `tz` whose instant (see above) is >= `instant`. -#}
    {%- set tick = modules.datetime.timedelta(microseconds=1) -%}
    {%- set wall = etl_session._wall_clock(instant, tz) -%}
    {%- if etl_session._earliest_instant(wall, tz) < instant -%}
        {#- The instant is the second pass of a repeated hour: every wall-clock value of that hour
            belongs to the first pass, so the bound is where the repeated hour ends. Find the
            change (within 3 hours before) by bisection over seconds. -#}
        {%- set offset = instant.astimezone(tz).utcoffset() -%}
        {%- set state = namespace(lo=instant - modules.datetime.timedelta(hours=3), hi=instant) -%}
        {%- for _ in range(24) -%}
            {%- set mid = state.lo + (state.hi - state.lo) / 2 -%}
            {%- if mid.astimezone(tz).utcoffset() == offset -%}
                {%- set state.hi = mid -%}
            {%- else -%}
                {%- set state.lo = mid -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set change = state.hi.replace(microsecond=0) -%}
        {%- if (change - tick).astimezone(tz).utcoffset() == offset -%}
            {%- set change = change - modules.datetime.timedelta(seconds=1) -%}
        {%- endif -%}
        {{ return(etl_session._wall_clock(change - tick, tz) + tick) }}
    {%- endif -%}
    {%- set before = etl_session._wall_clock(instant - tick, tz) -%}
    {%- if wall - before > tick -%}
        {#- The clocks go forward at this very instant: the skipped wall-clock values count here. -#}
        {{ return(before + tick) }}
    {%- endif -%}
    {{ return(wall) }}
{%- endmacro -%}


{%- macro _timestamp_text(naive) -%}
    {{ return(naive.isoformat(sep=' ')) }}
{%- endmacro -%}


{%- macro _typed_literal(instant, data_type, column_timezone=none, period_timezone='UTC') -%}
    {#- One period bound as a typed literal for a column of `data_type` (see above). -#}
    {%- set kind = etl_session._normalize_kind(data_type) -%}
    {%- if kind == 'timestamptz' -%}
        {{ return("cast('" ~ etl_session._utc_text(instant) ~ "+00:00' as " ~ etl_session.type_timestamptz() ~ ")") }}
    {%- elif kind == 'timestamp' and not column_timezone -%}
        {{ return("cast('" ~ etl_session._utc_text(instant) ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- elif kind == 'timestamp' -%}
        {%- set tz = etl_session._zone(column_timezone, 'etl_period_column_timezone') -%}
        {{ return("cast('" ~ etl_session._timestamp_text(etl_session._wall_clock_bound(instant, tz)) ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endif -%}
    {%- set zone_name = column_timezone or period_timezone or 'UTC' -%}
    {%- set tz = etl_session._zone(zone_name, 'the period time zone') -%}
    {%- set local = instant.astimezone(tz) -%}
    {%- if local.hour or local.minute or local.second or local.microsecond -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: the period bound " ~ instant.strftime('%Y-%m-%dT%H:%M:%SZ') ~ " is "
            ~ local.strftime('%Y-%m-%d %H:%M') ~ " in " ~ zone_name ~ ", not a midnight: a date column "
            ~ "cannot hold part of a day; load whole days of " ~ zone_name ~ " (e.g. --period 2023-05-01), "
            ~ "or filter a timestamp column instead"
        ) }}
    {%- endif -%}
    {{ return("cast('" ~ local.date().isoformat() ~ "' as date)") }}
{%- endmacro -%}


{%- macro _null_of_kind(data_type) -%}
    {%- set kind = etl_session._normalize_kind(data_type) -%}
    {{ return('cast(null as ' ~ (etl_session.type_timestamptz() if kind == 'timestamptz' else ('date' if kind == 'date' else dbt.type_timestamp())) ~ ')') }}
{%- endmacro -%}
