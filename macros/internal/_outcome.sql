{%- macro _result_rows(results) -%}
    {#- dbt's result objects as plain dicts: node id, type, status, rows, time, message. -#}
    {%- set rows = [] -%}
    {%- for r in results -%}
        {%- set status = (r.status.value if r.status.value is defined else r.status) | string | lower -%}
        {%- set response = r.adapter_response if r.adapter_response is mapping else {} -%}
        {%- do rows.append({
            'node_id': r.node.unique_id,
            'resource_type': (r.node.resource_type.value if r.node.resource_type.value is defined else r.node.resource_type) | string,
            'status': status,
            'rows_affected': response.get('rows_affected') if (response.get('rows_affected') is number and response.get('rows_affected') >= 0) else none,
            'execution_time': r.execution_time,
            'message': etl_session._plain(r.message),
        }) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro -%}


{%- macro _outcome(rows) -%}
    {#-
        DESIGN.md's mapping: success only when every node that ran ended success, pass, warn,
        no-op or reused; any error, fail, runtime error, skipped or partial success is an error.
    -#}
    {%- set ok_statuses = ['success', 'pass', 'warn', 'no-op', 'no op', 'reused'] -%}
    {%- set counts = {'ok': 0, 'error': 0, 'skipped': 0} -%}
    {%- set failed = [] -%}
    {%- for row in rows -%}
        {%- if row.status in ok_statuses -%}
            {%- do counts.update({'ok': counts.ok + 1}) -%}
        {%- elif row.status == 'skipped' -%}
            {%- do counts.update({'skipped': counts.skipped + 1}) -%}
        {%- else -%}
            {%- do counts.update({'error': counts.error + 1}) -%}
            {%- do failed.append(row) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if failed -%}
        {%- set first = failed[0] -%}
        {%- set first_error = (((first.message or first.status) | string).split() | join(' '))[:500] -%}
        {%- set message = counts.error ~ " failed, " ~ counts.skipped ~ " skipped; first: "
            ~ first.node_id ~ " (" ~ first.status ~ "): " ~ first_error -%}
        {%- set status = 'error' -%}
    {%- elif counts.skipped -%}
        {%- set message = counts.skipped ~ " skipped" -%}
        {%- set status = 'error' -%}
    {%- else -%}
        {%- set message = counts.ok ~ " ok" -%}
        {%- set status = 'success' -%}
    {%- endif -%}
    {{ return({'status': status, 'message': message, 'ok': counts.ok, 'error': counts.error, 'skipped': counts.skipped}) }}
{%- endmacro -%}



{%- macro _plain(text) -%}
    {#- Text without terminal escape sequences, or none: colours (CSI, which dbt puts in some
        messages), OSC sequences such as a window title, other escapes (ESC c), a lone ESC or BEL. The same
        pattern as the runner's etl_session.results.plain. -#}
    {%- if text is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(modules.re.sub('\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]*(?:\x07|\x1b\\\\)|[ -/]*[0-~])?|\x07', '', text | string)) }}
{%- endmacro -%}
