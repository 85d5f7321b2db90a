{%- macro cleanup_session(session_id, dry_run=true, only_status='error', models=none) -%}
    {#-
        An operation for etl-session cleanup: counts, and unless dry_run deletes, the rows the
        session wrote (see _session_stamped_models: only models that stamp the package's session
        ids, only that session's id, only its period), and records what it did in the session's
        cleanup column, all in one transaction. Running sessions whose owner is gone are
        closed as abandoned first. A session whose status is not `only_status` is
        never touched. Announces `cleanup_plan` (the counts) before deleting and `cleanup` (the
        outcome) at the end.
    -#}
    {%- set sessions = etl_session._sessions_table() -%}
    {%- set session = none -%}
    {%- set swept = etl_session._sweep_dead_sessions(sessions) if sessions is not none else [] -%}
    {%- if sessions is not none -%}
        {%- set found = etl_session._json_rows(etl_session._execute(etl_session.get_session_by_id_sql(sessions, session_id))) -%}
        {%- if found -%}
            {%- set session = found[0] -%}
        {%- endif -%}
    {%- endif -%}
    {%- set outcome = {'session_id': session_id, 'found': session is not none, 'status': none,
                       'models': [], 'skipped': [], 'deleted': false, 'cleanup': none,
                       'swept': swept} -%}
    {%- if session is none -%}
        {%- do etl_session._announce('cleanup', outcome) -%}
        {{ return('') }}
    {%- endif -%}
    {%- do outcome.update({'status': session.status}) -%}
    {%- if session.status != only_status -%}
        {%- do etl_session._announce('cleanup', outcome) -%}
        {{ return('') }}
    {%- endif -%}

    {%- set targets = [] -%}
    {%- for model in etl_session._session_stamped_models(session, models) -%}
        {%- set name = model.relation if model.relation is string or model.relation is none else etl_session._relation_name(model.relation) -%}
        {%- if model.skipped -%}
            {%- do outcome.skipped.append({'node_id': model.node_id, 'relation': name, 'reason': model.skipped}) -%}
        {%- else -%}
            {%- set counted = etl_session._execute(etl_session.get_count_session_rows_sql(model.relation, session_id, model.predicate)) -%}
            {%- do outcome.models.append({'node_id': model.node_id, 'relation': name, 'rows': counted.rows[0][0] | int}) -%}
            {%- do targets.append(model) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do etl_session._announce('cleanup_plan', outcome) -%}
    {%- if dry_run -%}
        {%- do etl_session._announce('cleanup', outcome) -%}
        {{ return('') }}
    {%- endif -%}

    {%- set done = [] -%}
    {%- for model in outcome.models -%}
        {%- do done.append(model.rows ~ (' row' if model.rows == 1 else ' rows') ~ ' from ' ~ model.relation) -%}
    {%- endfor -%}
    {%- set now = modules.datetime.datetime.now(modules.pytz.utc).strftime('%Y-%m-%dT%H:%M:%SZ') -%}
    {%- set record = 'deleted ' ~ (done | join(', ') if done else '0 rows (no model stamps session ids)') ~ ' at ' ~ now -%}
    {%- set cleanup = (session.cleanup ~ '; ' ~ record) if session.cleanup else record -%}
    {%- set statements = [] -%}
    {%- for model in targets -%}
        {%- do statements.append(etl_session.get_delete_session_rows_sql(model.relation, session_id, model.predicate)) -%}
    {%- endfor -%}
    {%- do statements.append(etl_session.get_record_cleanup_sql(sessions, session_id, cleanup)) -%}
    {%- do etl_session._execute(statements | join(';\n')) -%}
    {%- do outcome.update({'deleted': true, 'cleanup': cleanup}) -%}
    {%- do etl_session._announce('cleanup', outcome) -%}
{%- endmacro -%}
