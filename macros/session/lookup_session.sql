{%- macro lookup_session(run_id) -%}
    {#- An operation: announces `lookup` with the session of `run_id` (`found` false when there
        is none), its status, whether it was opened by etl-session open (`external`) and its
        period as UTC instants with the zone it was stated in. Changes nothing. -#}
    {%- set session = etl_session._session_by_run_id(etl_session._sessions_table(), run_id) -%}
    {%- if session is none -%}
        {%- do etl_session._announce('lookup', {'found': false, 'run_id': run_id}) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set announced = etl_session._session_announcement(session) -%}
    {%- do announced.update({'found': true}) -%}
    {%- do etl_session._announce('lookup', announced) -%}
{%- endmacro -%}
