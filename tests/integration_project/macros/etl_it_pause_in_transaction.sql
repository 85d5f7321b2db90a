{%- macro etl_it_pause_in_transaction() -%}
    {#- The reliability suite's sure "inside the model's transaction" moment: a post-hook (run
        after the delete and the insert, before the COMMIT) that says so, then takes a while. -#}
    {%- set seconds = var('pause_in_transaction_seconds', 0) | float -%}
    {%- if not execute or seconds <= 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- do log('etl-test: pausing inside the model transaction', info=True) -%}
    {%- if target.type == 'postgres' -%}
        {{ return('select pg_sleep(' ~ seconds ~ ')') }}
    {%- endif -%}
    {{ return('select sum(hash(r.range)) from range(' ~ (seconds * 100000000) | int ~ ') as r') }}
{%- endmacro -%}
