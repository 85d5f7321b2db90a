{#-
    Several chunks in one run (etl-run --split ... --per-run N): one session per chunk, and every
    row of an etl_period model gets the session of the chunk its period column falls in. In such
    a run session_id() renders a typed null with the marker below; the materialization then
    selects the model's columns with that column replaced by the chunk's session id, found from
    the period column by a balanced CASE over the chunks' bounds (log2 N comparisons a row).
-#}

{%- macro _chunk_stamp_marker() -%}
    {{ return('etl_session: the session id of the chunk of each row') }}
{%- endmacro -%}


{%- macro _chunk_stamped_sql(sql, columns, settings, kind) -%}
    {#- The model's query with its session id column stamped per chunk, or `sql` unchanged when
        the run has one chunk or the model does not stamp session_id(). -#}
    {%- set ctx = etl_session._context() -%}
    {%- if not ctx.chunk_bounds -%}
        {{ return(sql) }}
    {%- endif -%}
    {%- do ctx.update({'chunks': etl_session._chunks(ctx)}) -%}
    {%- if ctx.chunks | length < 2 or etl_session._chunk_stamp_marker() not in sql -%}
        {{ return(sql) }}
    {%- endif -%}
    {%- set wanted = (config.get('etl_session_id_column') or 'session_id') | string | trim | lower -%}
    {%- if wanted not in (columns | map(attribute='name') | map('lower') | list) -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ " stamps etl_session.session_id() into a column that is not named " ~ wanted
            ~ ": a run of several chunks (etl-run --per-run) fills the column named by "
            ~ "config(etl_session_id_column='...') (default session_id); name it, or load one chunk per run") }}
    {%- endif -%}
    {%- set sessions = etl_session._chunk_sessions(etl_session._sessions_relation(), ctx, in_transaction=true) -%}
    {%- if sessions | length != ctx.chunks | length -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ": " ~ (ctx.chunks | length) ~ " chunks in this run, " ~ (sessions | length)
            ~ " sessions open for them (did on-run-start open_session() fail?)") }}
    {%- endif -%}
    {%- set bounds = [] -%}
    {%- for chunk in ctx.chunks -%}
        {%- do bounds.append(etl_session._typed_literal(chunk.start, kind, settings.column_timezone, ctx.period_timezone)) -%}
    {%- endfor -%}
    {%- set ids = sessions | map(attribute='session_id') | list -%}
    {%- set stamp = 'cast(' ~ etl_session._chunk_case(settings.column, bounds, ids, 0, ids | length - 1) ~ ' as ' ~ dbt.type_bigint() ~ ')' -%}
    {%- set selected = [] -%}
    {%- for col in columns -%}
        {%- if col.name | lower == wanted -%}
            {%- do selected.append(stamp ~ ' as ' ~ col.quoted) -%}
        {%- else -%}
            {%- do selected.append(col.quoted) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('select ' ~ (selected | join(', ')) ~ '\nfrom (\n' ~ sql ~ '\n) as etl_period_chunked') }}
{%- endmacro -%}


{%- macro _chunk_case(column, bounds, ids, low, high) -%}
    {#- The session id of chunks low..high for a row whose `column` is in them: a binary search. -#}
    {%- if low == high -%}
        {{ return(ids[low] | string) }}
    {%- endif -%}
    {%- set middle = (low + high + 1) // 2 -%}
    {{ return('case when ' ~ column ~ ' < ' ~ bounds[middle] ~ ' then '
        ~ etl_session._chunk_case(column, bounds, ids, low, middle - 1) ~ ' else '
        ~ etl_session._chunk_case(column, bounds, ids, middle, high) ~ ' end') }}
{%- endmacro -%}
