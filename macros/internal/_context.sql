{#-
    The session context: where the period, run id and source label come from.

    Read at execution time only (guarded by `execute`), so that a new period never invalidates
    dbt's partial parse. Precedence: a dbt var (plain `dbt build --vars ...`) over the
    environment variable etl-run sets.
-#}

{%- macro _setting(var_name, env_name, strip=true) -%}
    {#- `strip=false` keeps a label exactly as given (only an all-blank value counts as unset). -#}
    {%- set from_var = var(var_name, none) -%}
    {%- if from_var is not none and from_var | string | trim != '' -%}
        {{ return(from_var | string | trim if strip else from_var | string) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set from_env = env_var(env_name, '') -%}
    {%- if from_env | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(from_env | trim if strip else from_env) }}
{%- endmacro -%}


{%- macro _parse_instant(text, name) -%}
    {#- An ISO 8601 timestamp as an aware UTC datetime; naive values are read as UTC. -#}
    {%- set cleaned = text | trim -%}
    {%- if cleaned[-1:] in ['Z', 'z'] -%}
        {%- set cleaned = cleaned[:-1] ~ '+00:00' -%}
    {%- endif -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?)?([+-]\\d{2}:?\\d{2})?$', cleaned) -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: " ~ name ~ " is " ~ (text | string)[:80] ~ ", expected an ISO 8601 timestamp such as 2023-05-01T00:00:00Z"
        ) }}
    {%- endif -%}
    {%- set parsed = modules.datetime.datetime.fromisoformat(cleaned) -%}
    {%- if parsed.tzinfo is none -%}
        {%- set parsed = parsed.replace(tzinfo=modules.pytz.utc) -%}
    {%- endif -%}
    {{ return(parsed.astimezone(modules.pytz.utc)) }}
{%- endmacro -%}


{%- macro _context() -%}
    {#- Everything a macro needs to know about the current session, as a dict. -#}
    {%- set start_text = etl_session._setting('etl_period_start', 'ETL_SESSION_PERIOD_START') -%}
    {%- set end_text = etl_session._setting('etl_period_end', 'ETL_SESSION_PERIOD_END') -%}
    {%- set ctx = {
        'has_period': false,
        'period_start': none,
        'period_end': none,
        'run_id': etl_session._setting('etl_run_id', 'ETL_SESSION_RUN_ID') or invocation_id,
        'source': etl_session._setting('etl_source', 'ETL_SESSION_SOURCE', strip=false) or project_name,
        'target': target.name,
        'command': flags.WHICH,
        'runner_host': etl_session._setting('etl_runner_host', 'ETL_SESSION_HOST'),
        'runner_pid': etl_session._setting('etl_runner_pid', 'ETL_SESSION_PID'),
    } -%}
    {%- if start_text is not none or end_text is not none -%}
        {%- if start_text is none or end_text is none -%}
            {{ exceptions.raise_compiler_error(
                "etl_session: give both etl_period_start and etl_period_end (or neither)"
            ) }}
        {%- endif -%}
        {%- set start = etl_session._parse_instant(start_text, 'etl_period_start') -%}
        {%- set end = etl_session._parse_instant(end_text, 'etl_period_end') -%}
        {%- if not start < end -%}
            {{ exceptions.raise_compiler_error(
                "etl_session: period end " ~ end.isoformat() ~ " is not after its start " ~ start.isoformat()
            ) }}
        {%- endif -%}
        {%- do ctx.update({'has_period': true, 'period_start': start, 'period_end': end}) -%}
    {%- endif -%}
    {{ return(ctx) }}
{%- endmacro -%}


{%- macro _is_load_command() -%}
    {#- Commands that load data and therefore get a session. -#}
    {{ return(execute and flags.WHICH in ['run', 'build', 'seed', 'snapshot', 'retry']) }}
{%- endmacro -%}


{%- macro _require_period(macro_name) -%}
    {#- The context when a period is given; a clear compiler error otherwise (load commands). -#}
    {%- set ctx = etl_session._context() -%}
    {%- if not ctx.has_period and etl_session._is_load_command() -%}
        {%- set node_name = model.unique_id if (model is defined and model and model.unique_id) else 'this node' -%}
        {{ exceptions.raise_compiler_error(
            "etl_session." ~ macro_name ~ "() in " ~ node_name ~ " needs a loading period: run "
            ~ "`etl-run --period \"[2023-05-01, 2023-05-31]\"`, or pass "
            ~ "--vars '{etl_period_start: \"2023-05-01T00:00:00Z\", etl_period_end: \"2023-06-01T00:00:00Z\"}'"
        ) }}
    {%- endif -%}
    {{ return(ctx) }}
{%- endmacro -%}
