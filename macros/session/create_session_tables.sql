{%- macro create_session_tables() -%}
    {#- Create the schema and both tables when missing, and add columns newer versions need.
        Idempotent; never drops anything. -#}
    {%- set sessions = etl_session._sessions_relation() -%}
    {%- set results = etl_session._results_relation() -%}
    {%- set existing = adapter.get_relation(sessions.database, sessions.schema, sessions.identifier) -%}
    {%- if existing -%}
        {#- The usual case: no DDL at all, only the columns an earlier version lacked. An ALTER
            (even ADD COLUMN IF NOT EXISTS) takes the table's strongest lock: it would wait for
            any open transaction that has read the table (a dashboard's, a running model's),
            and every later reader would queue behind it. On Spark `existing` is the sessions
            view, created last, after its event log and heartbeat table: all three are there, and
            the view has every column since Spark's first version (a view takes no ALTER). -#}
        {%- if adapter.type() != 'spark' -%}
            {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
            {%- set added = etl_session._sessions_added_columns_sql(existing, present) -%}
            {%- if added | trim -%}
                {%- do etl_session._execute(added) -%}
            {%- endif -%}
        {%- endif -%}
    {%- else -%}
        {%- do adapter.create_schema(sessions) -%}
        {#- A new (or recreated) sessions table: its ids continue after the largest session id
            the project's tables already hold, so an id never names two loads. -#}
        {%- set first_id = etl_session._largest_stamped_session_id() + 1 -%}
        {%- do etl_session._execute(etl_session.get_create_sessions_table_sql(sessions, first_id)) -%}
    {%- endif -%}
    {%- if not existing or not adapter.get_relation(results.database, results.schema, results.identifier) -%}
        {%- do etl_session._execute(etl_session.get_create_session_results_table_sql(results)) -%}
    {%- endif -%}
{%- endmacro -%}


{%- macro _largest_stamped_session_id() -%}
    {#- The largest session_id in the existing tables of models that may stamp session ids: those
        that call session_id() and, since a call through a macro of the project's own does not
        show in the graph, every other model table with a session_id column. Taking more tables
        than needed only starts the new ids higher, which is safe. -#}
    {%- set largest = namespace(value=0) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type in ['model', 'snapshot'] -%}
            {%- set relation = adapter.get_relation(node.database, node.schema, node.alias or node.name) -%}
            {%- set direct = 'macro.etl_session.session_id' in (node.depends_on.macros or []) -%}
            {%- if relation and relation.type == 'table' and not direct -%}
                {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
                {%- if 'session_id' not in names -%}
                    {%- set relation = none -%}
                {%- endif -%}
            {%- endif -%}
            {%- if relation and relation.type == 'table' -%}
                {%- set found = etl_session._execute(etl_session.get_largest_session_id_sql(relation)) -%}
                {%- if found and found.rows and found.rows[0][0] is not none and found.rows[0][0] | int > largest.value -%}
                    {%- set largest.value = found.rows[0][0] | int -%}
                {%- endif -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(largest.value) }}
{%- endmacro -%}
