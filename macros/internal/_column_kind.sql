{#- What a period column really is, read from the warehouse, so users need not repeat it. -#}

{%- macro _kind_of_dtype(dtype) -%}
    {#- 'timestamptz', 'timestamp', 'date', or none for a type that holds no point in time. -#}
    {{ return(etl_session.column_type_kind(dtype)) }}
{%- endmacro -%}


{%- macro column_type_kind(dtype) -%}
    {#- What a column of type `dtype` holds: the same names as _kind_of_dtype. Dispatched because
        the same type name means different things (Spark's `timestamp` is an instant). -#}
    {{ return(adapter.dispatch('column_type_kind', 'etl_session')(dtype)) }}
{%- endmacro -%}

{%- macro default__column_type_kind(dtype) -%}
    {%- set text = (dtype or '') | string | lower | trim -%}
    {#- psycopg2 names timestamptz DATETIMETZ when dbt reads a query's columns. -#}
    {%- if ('with time zone' in text and 'without' not in text) or text.startswith('timestamptz')
          or text.startswith('timestamp_tz') or text.startswith('timestamp_ltz') or text == 'datetimetz' -%}
        {{ return('timestamptz') }}
    {%- elif text.startswith('timestamp') or text.startswith('datetime') -%}
        {{ return('timestamp') }}
    {%- elif text == 'date' -%}
        {{ return('date') }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro -%}


{%- macro _column_kind(relation, column) -%}
    {#- The kind of `column` in `relation`, or none when it cannot be known here (parse time, a
        unit test's fixtures, an expression rather than a column, a relation that does not exist
        yet). A column that exists but holds no point in time is an error. -#}
    {%- if not execute or relation is none or etl_session._in_unit_test() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set name = (column | string).split('.')[-1] | trim -%}
    {%- set name = name.strip('"`[]') | lower -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_$]*$', name) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if relation is string or relation.identifier is not defined -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not load_relation(relation) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for col in adapter.get_columns_in_relation(relation) -%}
        {%- if col.name | lower == name -%}
            {%- set kind = etl_session._kind_of_dtype(col.dtype) -%}
            {%- if kind is none -%}
                {{ exceptions.raise_compiler_error(
                    "etl_session: the period column " ~ name ~ " of " ~ relation ~ " is " ~ col.dtype
                    ~ ", not a date or timestamp: filter a date or timestamp column"
                ) }}
            {%- endif -%}
            {{ return(kind) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro -%}


{%- macro _check_declared_kind(declared, real, where) -%}
    {#- The kind to use: the real one when known (a contradicting declaration is an error), else
        the declared one, else naive UTC 'timestamp'. -#}
    {%- set wanted = etl_session._normalize_kind(declared) if declared else none -%}
    {%- if real is not none and wanted is not none and wanted != real -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: " ~ where ~ " is declared " ~ declared ~ " but the column is a " ~ real
            ~ " in the warehouse: the filter would be shifted or wrong; declare data_type='" ~ real
            ~ "' (or leave it out: it is read from the warehouse)"
        ) }}
    {%- endif -%}
    {{ return(real or wanted or 'timestamp') }}
{%- endmacro -%}
