{%- macro coverage(source=none, sweep=true, plan=false) -%}
    {#-
        An operation for etl-session coverage and etl-run's gap finding: announces `coverage`,
        with the project's period models (unique id, name, etl_period_begin), every load of
        `source` (default: the project name) on the current target, oldest first, and how each
        period model fared in each of them, each as one text value (see get_coverage_sessions_sql
        and get_coverage_results_sql). Python paints the timeline (etl_session.coverage).
        First (when `sweep`) closes the running sessions whose owner is gone, so a dead load
        never shows as running. With `plan`, the announcement also carries the three statements
        this operation ran, compiled (`plan`: owners, sessions, results), for etl-session
        coverage's fast path (etl_session._coverage_plan), which runs them again without dbt.
    -#}
    {%- set source = source or project_name -%}
    {%- set models = [] -%}
    {%- for node in graph.nodes.values() if etl_session._is_period_model(node) -%}
        {%- do models.append({'unique_id': node.unique_id, 'name': node.name,
            'begin': etl_session._json_value(node.config.get('etl_period_begin'))}) -%}
    {%- endfor -%}
    {%- set table = etl_session._sessions_table() -%}
    {%- set loads = '' -%}
    {%- set outcomes = '' -%}
    {%- set swept = [] -%}
    {%- set statements = none -%}
    {%- if table is not none -%}
        {%- set swept = etl_session._sweep_dead_sessions(table) if sweep else [] -%}
        {%- set results = etl_session._results_relation() -%}
        {%- set sessions_sql = etl_session.get_coverage_sessions_sql(table, source, target.name) -%}
        {%- set results_sql = etl_session.get_coverage_results_sql(table, results, source, target.name,
            models | map(attribute='unique_id') | list) if models else none -%}
        {%- set found = etl_session._execute(sessions_sql) -%}
        {%- set loads = found.rows[0][0] if found.rows | length and found.rows[0][0] is not none else '' -%}
        {%- if models and adapter.get_relation(results.database, results.schema, results.identifier) -%}
            {%- set found = etl_session._execute(results_sql) -%}
            {%- set outcomes = found.rows[0][0] if found.rows | length and found.rows[0][0] is not none else '' -%}
        {%- endif -%}
        {%- if plan -%}
            {%- set statements = {'owners': etl_session.get_session_owners_sql(table),
                'sessions': sessions_sql, 'results': results_sql} -%}
        {%- endif -%}
    {%- endif -%}
    {%- set answer = {'source': source, 'target': target.name,
        'models': models, 'sessions': loads, 'results': outcomes, 'swept': swept} -%}
    {%- if statements is not none -%}
        {%- do answer.update({'plan': statements}) -%}
    {%- endif -%}
    {%- do etl_session._announce('coverage', answer) -%}
{%- endmacro -%}
