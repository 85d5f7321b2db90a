{#- Test support: how many rows of `table` each period's filter selects, per column, using the
    package's own predicate against the real warehouse (one dbt call for many periods).
    `jobs`: [{zone, columns: [{name, data_type, column_timezone}], periods: <a key of period_sets>}];
    `period_sets`: {key: [[start, end], ...]} in microseconds since 1970-01-01T00:00:00Z. -#}
{% macro it_period_counts(table, jobs, period_sets) %}
    {%- set epoch = modules.datetime.datetime(1970, 1, 1, tzinfo=modules.pytz.utc) -%}
    {%- set answers = [] -%}
    {%- for job in jobs -%}
        {%- set results = {} -%}
        {%- for col in job['columns'] -%}
            {%- set parts = [] -%}
            {%- for bounds in period_sets[job['periods']] -%}
                {%- set ctx = {
                    'period_start': epoch + modules.datetime.timedelta(microseconds=bounds[0]),
                    'period_end': epoch + modules.datetime.timedelta(microseconds=bounds[1]),
                    'period_timezone': job['zone'],
                } -%}
                {%- do parts.append('cast(sum(case when ' ~ etl_session._period_predicate(
                    col['name'], col.get('data_type'), col.get('column_timezone'), ctx) ~ ' then 1 else 0 end) as integer)') -%}
            {%- endfor -%}
            {%- set found = run_query('select ' ~ (parts | join(', ')) ~ ' from ' ~ table) -%}
            {%- set counts = [] -%}
            {%- for value in found.rows[0] -%}
                {%- do counts.append((value or 0) | int) -%}
            {%- endfor -%}
            {%- do results.update({col['name']: counts}) -%}
        {%- endfor -%}
        {%- do answers.append(results) -%}
    {%- endfor -%}
    {#- The zone of the connection the counts ran on (the test checks a foreign one took). -#}
    {%- set zone = run_query("select current_setting('TimeZone')").rows[0][0] -%}
    {%- do log('it_period_connection_zone ' ~ zone, info=true) -%}
    {%- do log('it_period_counts ' ~ tojson(answers), info=true) -%}
{% endmacro %}
