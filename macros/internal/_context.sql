{#-
    The session context: where the period, its zone, the run id and the source label come from.

    Read at execution time only (guarded by `execute`), so that a new period never invalidates
    dbt's partial parse. Precedence: a dbt var (plain `dbt build --vars ...`, or a unit test's
    `overrides: vars:`) over the environment variable etl-run sets.
-#}

{%- macro _setting(var_name, env_name, strip=true, unit_test=none) -%}
    {#- `strip=false` keeps a label exactly as given (only an all-blank value counts as unset).
        `unit_test`: whether dbt renders a unit test, when the caller knows (a macro call costs
        ~15 us, and _context reads eight settings on every period macro call). -#}
    {%- set unit_test = etl_session._in_unit_test() if unit_test is none else unit_test -%}
    {%- if unit_test -%}
        {#- A unit test sees only its own `overrides: vars:`, never the period of the load around
            it (global --vars or etl-run's environment): its fixtures drive it. -#}
        {%- set from_var = ((model.get('overrides') or {}).get('vars') or {}).get(var_name) -%}
    {%- else -%}
        {%- set from_var = var(var_name, none) -%}
    {%- endif -%}
    {%- if from_var is not none and from_var | string | trim != '' -%}
        {{ return(from_var | string | trim if strip else from_var | string) }}
    {%- endif -%}
    {%- if not execute or unit_test -%}
        {#- A unit test sees only its own `overrides: vars:`, never the surrounding load's
            period (etl-run's environment): its fixtures drive it. -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set from_env = env_var(env_name, '') -%}
    {%- if from_env | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(from_env | trim if strip else from_env) }}
{%- endmacro -%}


{%- macro _zone(name, what) -%}
    {#- A pytz zone for an IANA name, or a compiler error that says what was wrong. -#}
    {%- if name is none or (name | string) not in modules.pytz.all_timezones_set -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: " ~ what ~ " is " ~ ((name | string)[:80] if name is not none else 'missing')
            ~ ", expected an IANA time zone such as UTC, Europe/Berlin or America/New_York"
        ) }}
    {%- endif -%}
    {{ return(modules.pytz.timezone(name | string)) }}
{%- endmacro -%}


{%- macro _parse_instant(text, name, zone='UTC') -%}
    {#- An ISO 8601 date or timestamp as an aware UTC datetime; values without an offset are
        read as wall-clock time of `zone` (the earlier instant when the clock repeats). -#}
    {%- set cleaned = text | string | trim -%}
    {%- if cleaned[-1:] in ['Z', 'z'] -%}
        {%- set cleaned = cleaned[:-1] ~ '+00:00' -%}
    {%- endif -%}
    {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?)?([+-]\\d{2}:?\\d{2})?$', cleaned) -%}
        {{ exceptions.raise_compiler_error(
            "etl_session: " ~ name ~ " is " ~ (text | string)[:80] ~ ", expected an ISO 8601 timestamp such as 2023-05-01T00:00:00Z"
        ) }}
    {%- endif -%}
    {%- set parsed = none -%}
    {%- if cleaned | length == 10 -%}
        {%- set parsed = modules.datetime.datetime.strptime(cleaned, '%Y-%m-%d') -%}
    {%- else -%}
        {%- set parsed = modules.datetime.datetime.fromisoformat(cleaned) -%}
    {%- endif -%}
    {%- if parsed.tzinfo is none -%}
        {%- set parsed = etl_session._earliest_instant(parsed, etl_session._zone(zone, 'the period time zone')) -%}
    {%- endif -%}
    {{ return(parsed.astimezone(modules.pytz.utc)) }}
{%- endmacro -%}


{%- macro _context() -%}
    {#- Everything a macro needs to know about the current session, as a dict. -#}
    {%- set unit_test = etl_session._in_unit_test() -%}
    {%- set start_text = etl_session._setting('etl_period_start', 'ETL_SESSION_PERIOD_START', unit_test=unit_test) -%}
    {%- set end_text = etl_session._setting('etl_period_end', 'ETL_SESSION_PERIOD_END', unit_test=unit_test) -%}
    {%- set zone = etl_session._setting('etl_period_timezone', 'ETL_SESSION_PERIOD_TIMEZONE', unit_test=unit_test)
        or (var('etl_session_timezone', none) or 'UTC') | string -%}
    {%- set ctx = {
        'has_period': false,
        'chunk_bounds': none,
        'period_start': none,
        'period_end': none,
        'period_timezone': zone,
        'run_id': etl_session._setting('etl_run_id', 'ETL_SESSION_RUN_ID', unit_test=unit_test) or invocation_id,
        'source': etl_session._setting('etl_source', 'ETL_SESSION_SOURCE', strip=false, unit_test=unit_test) or project_name,
        'target': target.name,
        'project': project_name,
        'command': flags.WHICH,
        'full_refresh': flags.FULL_REFRESH is true,
        'runner_host': etl_session._setting('etl_runner_host', 'ETL_SESSION_HOST', unit_test=unit_test),
        'runner_pid': etl_session._setting('etl_runner_pid', 'ETL_SESSION_PID', unit_test=unit_test),
    } -%}
    {%- if start_text is not none or end_text is not none -%}
        {%- if start_text is none or end_text is none -%}
            {{ exceptions.raise_compiler_error(
                "etl_session: give both etl_period_start and etl_period_end (or neither)"
            ) }}
        {%- endif -%}
        {%- do etl_session._zone(zone, 'etl_period_timezone') -%}
        {%- set start = etl_session._parse_instant(start_text, 'etl_period_start', zone) -%}
        {%- set end = etl_session._parse_instant(end_text, 'etl_period_end', zone) -%}
        {%- if not start < end -%}
            {{ exceptions.raise_compiler_error(
                "etl_session: period end " ~ end.isoformat() ~ " is not after its start " ~ start.isoformat()
            ) }}
        {%- endif -%}
        {%- do ctx.update({'has_period': true, 'period_start': start, 'period_end': end, 'chunks_start': start}) -%}
        {#- Parsed only where needed (etl_session._chunks(ctx)): this runs for every macro call. -#}
        {%- do ctx.update({'chunk_bounds': etl_session._setting('etl_period_chunks', 'ETL_SESSION_PERIOD_CHUNKS', unit_test=unit_test)}) -%}
        {%- set begin = etl_session._full_refresh_begin(zone) -%}
        {%- if begin is not none and begin < end -%}
            {#- This node is rebuilt by --full-refresh: it reloads its history from etl_period_begin. -#}
            {%- do ctx.update({'period_start': begin}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(ctx) }}
{%- endmacro -%}


{%- macro _chunks(ctx) -%}
    {#- The sessions of this load: one per chunk of the period. etl-run --split --per-run loads
        several consecutive chunks in one invocation and gives their inner bounds (ISO instants,
        comma-separated) in ETL_SESSION_PERIOD_CHUNKS; the first chunk's session has the load's
        run id, the k-th's that run id + '~k'. Without them: one chunk, the period. -#}
    {%- if not ctx.has_period -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set start = ctx.chunks_start -%}
    {%- set end = ctx.period_end -%}
    {%- set bounds = [start] -%}
    {%- for part in ((ctx.chunk_bounds or '').split(',') | map('trim') | reject('equalto', '') | list) -%}
        {%- set bound = etl_session._parse_instant(part, 'etl_period_chunks', ctx.period_timezone) -%}
        {%- if not (bounds[-1] < bound and bound < end) -%}
            {{ exceptions.raise_compiler_error(
                "etl_session: etl_period_chunks must be increasing instants inside the period, and "
                ~ bound.isoformat() ~ " is not after " ~ bounds[-1].isoformat() ~ " and before " ~ end.isoformat()
            ) }}
        {%- endif -%}
        {%- do bounds.append(bound) -%}
    {%- endfor -%}
    {%- do bounds.append(end) -%}
    {%- set chunks = [] -%}
    {%- for index in range(bounds | length - 1) -%}
        {%- do chunks.append({'start': bounds[index], 'end': bounds[index + 1],
            'run_id': ctx.run_id if index == 0 else ctx.run_id ~ '~' ~ (index + 1)}) -%}
    {%- endfor -%}
    {{ return(chunks) }}
{%- endmacro -%}


{%- macro _is_period_model(node) -%}
    {#- A model that replaces its period: the etl_period materialization or strategy. -#}
    {%- set config = node.config if node.config is defined else {} -%}
    {{ return(node.resource_type == 'model' and (
        config.get('materialized') == 'etl_period'
        or (config.get('materialized') == 'incremental' and config.get('incremental_strategy') == 'etl_period'))) }}
{%- endmacro -%}


{%- macro _full_refresh_begin(zone) -%}
    {#- When the current node is a period model rebuilt by --full-refresh and declares
        etl_period_begin: that instant (its history reloads from there); else none. -#}
    {%- if not (flags.FULL_REFRESH is true) or model is not defined or model is not mapping -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not etl_session._is_period_model(model) or model.config.get('full_refresh') is false -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set begin = model.config.get('etl_period_begin') -%}
    {%- if begin is none or begin | string | trim == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(etl_session._parse_instant(begin | string, model.unique_id ~ ' etl_period_begin', zone)) }}
{%- endmacro -%}


{%- macro _is_load_command() -%}
    {#- Commands that load data and therefore get a session. -#}
    {{ return(execute and flags.WHICH in ['run', 'build', 'seed', 'snapshot', 'retry']) }}
{%- endmacro -%}


{%- macro _in_unit_test() -%}
    {#- True while dbt renders a model for one of its unit tests: the fixtures drive the test. -#}
    {{ return(model is defined and model is mapping and model.get('resource_type') == 'unit_test') }}
{%- endmacro -%}


{%- macro _require_period(macro_name) -%}
    {#- The context when a period is given; a clear compiler error otherwise (load commands). -#}
    {%- set ctx = etl_session._context() -%}
    {%- if not ctx.has_period and etl_session._is_load_command() and not etl_session._in_unit_test() -%}
        {%- set node_name = model.unique_id if (model is defined and model and model.unique_id) else 'this node' -%}
        {{ exceptions.raise_compiler_error(
            "etl_session." ~ macro_name ~ "() in " ~ node_name ~ " needs a loading period, and none was given: run "
            ~ "`etl-run --period \"[2023-05-01, 2023-05-31]\"`, or pass "
            ~ "--vars '{etl_period_start: \"2023-05-01T00:00:00Z\", etl_period_end: \"2023-06-01T00:00:00Z\"}'"
            ~ " (in a unit test: overrides: vars: etl_period_start/etl_period_end)"
        ) }}
    {%- endif -%}
    {{ return(ctx) }}
{%- endmacro -%}
