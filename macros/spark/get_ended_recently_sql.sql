{%- macro spark__get_ended_recently_sql(finished_column, seconds) -%}
    {#- Spark: the Thrift server's clock, as for every other timestamp of the sessions log. -#}
    ({{ finished_column }} >= current_timestamp() - interval {{ '%.3f' | format(seconds | float) }} seconds)
{%- endmacro -%}
