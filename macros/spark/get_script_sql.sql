{%- macro spark__get_script_sql(sql) -%}
    {#- Spark takes one statement per request (SQL scripts, BEGIN ... END, exist from Spark 4
        only, and hide a failing statement's error behind their own): every statement but the
        last runs here, in order, on the same connection; the last is returned for the caller
        to run (and fetch). -#}
    {%- set statements = etl_session._spark_split_statements(sql) -%}
    {%- for statement_sql in statements[:-1] -%}
        {%- do run_query(statement_sql) -%}
    {%- endfor -%}
    {{ return(statements[-1] if statements else sql) }}
{%- endmacro -%}


{%- macro _spark_split_statements(sql) -%}
    {#- The statements of `sql`, split at `;` outside string literals (Spark's: backslash
        escapes), quoted identifiers and comments; empty ones dropped. -#}
    {%- set state = namespace(quote=none, escaped=false, comment=none, start=0, previous='') -%}
    {%- set statements = [] -%}
    {%- set text = sql | string -%}
    {%- for char in text -%}
        {%- set i = loop.index0 -%}
        {%- if state.comment == 'line' -%}
            {%- if char == '\n' -%}{%- set state.comment = none -%}{%- endif -%}
        {%- elif state.comment == 'block' -%}
            {%- if char == '/' and state.previous == '*' -%}{%- set state.comment = none -%}{%- set char = '' -%}{%- endif -%}
        {%- elif state.quote is not none -%}
            {%- if state.escaped -%}
                {%- set state.escaped = false -%}{%- set char = '' -%}
            {%- elif char == '\\' and state.quote != '`' -%}
                {%- set state.escaped = true -%}
            {%- elif char == state.quote -%}
                {%- set state.quote = none -%}
            {%- endif -%}
        {%- elif char in ["'", '"', '`'] -%}
            {%- set state.quote = char -%}
        {%- elif char == '-' and state.previous == '-' -%}
            {%- set state.comment = 'line' -%}
        {%- elif char == '*' and state.previous == '/' -%}
            {%- set state.comment = 'block' -%}{%- set char = '' -%}
        {%- elif char == ';' -%}
            {%- do statements.append(text[state.start:i]) -%}
            {%- set state.start = i + 1 -%}
        {%- endif -%}
        {%- set state.previous = char -%}
    {%- endfor -%}
    {%- do statements.append(text[state.start:]) -%}
    {%- set kept = [] -%}
    {%- for statement_sql in statements -%}
        {%- if statement_sql | trim -%}
            {%- do kept.append(statement_sql | trim) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(kept) }}
{%- endmacro -%}
