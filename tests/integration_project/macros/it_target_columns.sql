{#- Test support: the columns of schema.identifier as the etl_period materialization reads them
    (etl_session.get_period_target_columns) and as dbt reads them (get_columns_in_relation),
    each as [name, period kind] in table order. -#}
{% macro it_target_columns(schema, identifier) %}
    {%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=identifier) -%}
    {%- set answer = {} -%}
    {%- for route, columns in [('package', etl_session.get_period_target_columns(relation)),
                               ('dbt', adapter.get_columns_in_relation(relation))] -%}
        {%- set found = [] -%}
        {%- for col in columns -%}
            {%- do found.append([col.name, etl_session._kind_of_dtype(col.dtype), col.quoted]) -%}
        {%- endfor -%}
        {%- do answer.update({route: found}) -%}
    {%- endfor -%}
    {%- do print('it_target_columns ' ~ tojson(answer)) -%}
{% endmacro %}
