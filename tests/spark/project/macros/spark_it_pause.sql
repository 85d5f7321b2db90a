{#- Test aid: a statement that runs `etl_it_pause_seconds` on the Spark server (a Java sleep),
    so that a test can stop a load while dbt polls a running statement. Empty (no statement)
    when the var is 0, the default. -#}
{% macro spark_it_pause() %}
  {%- set seconds = var('etl_it_pause_seconds', 0) | int -%}
  {%- if seconds > 0 -%}
    select reflect('java.lang.Thread', 'sleep', cast({{ seconds * 1000 }} as bigint)) as paused
  {%- endif -%}
{% endmacro %}
