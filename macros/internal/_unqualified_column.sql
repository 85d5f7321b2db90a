{%- macro _unqualified_column(relation, column) -%}
    {#- `column` as it resolves inside `(select * from <relation> where ...)`. A qualifier the
        caller wrote (`e.occurred_at`, with `e` the alias given to period_ref, or the table's
        name) names nothing in that subquery: it is dropped. A first part that is a column of
        the relation (a struct's field, say) is kept as written. -#}
    {%- set text = column | string | trim -%}
    {%- if '.' not in text or relation is none or relation is string or relation.identifier is not defined -%}
        {{ return(text) }}
    {%- endif -%}
    {%- set parts = text.split('.') -%}
    {%- set first = parts[0] | trim -%}
    {%- set first = first.strip('"`[]') | lower -%}
    {%- if execute and load_relation(relation) -%}
        {%- for col in adapter.get_columns_in_relation(relation) -%}
            {%- if col.name | lower == first -%}
                {{ return(text) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(parts[-1] | trim) }}
{%- endmacro -%}
