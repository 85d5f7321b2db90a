{%- macro _chunk_sessions(sessions, ctx, in_transaction=false) -%}
    {#- The sessions of this load's chunks, as dicts (session_id, run_id, status), in the order
        of ctx.chunks; a chunk without a session is left out. `in_transaction`: read inside the
        model's transaction (a materialization), which a commit must not end. -#}
    {%- set names = [] -%}
    {%- for chunk in ctx.chunks -%}
        {%- do names.append(etl_session._string(chunk.run_id)) -%}
    {%- endfor -%}
    {%- set query = 'select session_id, run_id, status from ' ~ sessions ~ ' where run_id in (' ~ (names | join(', ')) ~ ')' -%}
    {%- set found = run_query(query) if in_transaction else etl_session._execute(query) -%}
    {%- set by_run = {} -%}
    {%- for row in found.rows -%}
        {%- do by_run.update({row[1] | string: {'session_id': row[0] | int, 'run_id': row[1] | string, 'status': row[2] | string}}) -%}
    {%- endfor -%}
    {%- set ordered = [] -%}
    {%- for chunk in ctx.chunks if chunk.run_id in by_run -%}
        {%- do ordered.append(by_run[chunk.run_id]) -%}
    {%- endfor -%}
    {{ return(ordered) }}
{%- endmacro -%}
