{%- macro show_replace_period_sql(variant, file_format=none) -%}
    {#- For the compiled-SQL tests of the Delta and Iceberg variants (no jars here to run them):
        logs what the package's variant builds for a table t_sql.target and a model's query. -#}
    {%- set relation = api.Relation.create(schema=target.schema, identifier='target', type='table') -%}
    {%- set columns = [api.Column.create('session_id', 'bigint'), api.Column.create('event_time', 'timestamp'),
                       api.Column.create('amount', 'double')] -%}
    {%- set predicate = etl_session.period_filter('event_time', 'timestamptz') -%}
    {%- set macro = etl_session.databricks__get_replace_period_sql if variant == 'databricks' else etl_session.spark__get_replace_period_sql -%}
    {%- set sql = macro(relation, 'select session_id, event_time, amount from ' ~ target.schema ~ '.source', columns, predicate, none, file_format) -%}
    {%- do log('REPLACE_SQL<<' ~ sql ~ '>>', info=true) -%}
{%- endmacro -%}
