{%- macro _blocked_hint(blocking) -%}
    {#- What to do about the running session `blocking` (a dict of _running_sessions) that keeps
        a load from starting. Without liveness (plain dbt on Postgres) nobody can tell whether it
        is alive, so waiting may never end: name the command that closes it. -#}
    {%- if blocking.get('liveness') -%}
        {{ return("wait for it (etl-run --wait), or close it if it is dead (etl-session close "
            ~ blocking.session_id ~ ")") }}
    {%- endif -%}
    {{ return("it holds no lock (opened by plain dbt?), so nothing can tell whether its owner is "
        ~ "alive: once you know it is gone, etl-session close " ~ blocking.session_id ~ " --force") }}
{%- endmacro -%}
