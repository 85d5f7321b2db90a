{#- What the etl_period materialization and strategy read from a model's config. -#}

{%- macro _period_config(route) -%}
    {#- The model's period settings; a compiler error naming the fix when the column is missing. -#}
    {%- set column = config.get('etl_period_column') -%}
    {%- if not column or (column | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ " uses " ~ route ~ " without etl_period_column: "
            ~ "add config(etl_period_column='<the column holding each row''s time>')"
        ) }}
    {%- endif -%}
    {#- The filter applies to the model's output and to the target: the bare column name. -#}
    {{ return({
        'column': (column | string | trim).split('.')[-1],
        'data_type': config.get('etl_period_data_type'),
        'column_timezone': config.get('etl_period_column_timezone'),
    }) }}
{%- endmacro -%}


{%- macro _period_kind(settings, columns, where) -%}
    {#- The kind of the period column ('timestamp', 'timestamptz' or 'date') read from `columns`
        (the target's or the query's), checked against a declared etl_period_data_type. -#}
    {%- set wanted = settings.column.split('.')[-1].strip('"`[] ') | lower -%}
    {%- set found = [] -%}
    {%- for col in columns -%}
        {%- if col.name | lower == wanted -%}
            {%- do found.append(col) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not found -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ": etl_period_column " ~ settings.column ~ " is not a column of "
            ~ where ~ " (it has " ~ (columns | map(attribute='name') | join(', ')) ~ "): name the "
            ~ "column holding each row's time"
        ) }}
    {%- endif -%}
    {%- set real = etl_session._kind_of_dtype(found[0].dtype) -%}
    {%- if real is none -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ": etl_period_column " ~ settings.column ~ " of " ~ where ~ " is "
            ~ found[0].dtype ~ ", not a date or timestamp: name a date or timestamp column"
        ) }}
    {%- endif -%}
    {{ return(etl_session._check_declared_kind(
        settings.data_type, real, model.unique_id ~ " etl_period_column " ~ settings.column)) }}
{%- endmacro -%}


{%- macro _period_filter_of(settings, kind) -%}
    {#- The period filter on the model's period column, exact for its kind and zone. -#}
    {{ return(etl_session.period_filter(settings.column, kind, settings.column_timezone)) }}
{%- endmacro -%}
