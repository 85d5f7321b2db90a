{#- etl-session's tests: an ordinary table whose session_id means a web session, not a load.
    `etl-session cleanup` must never touch it (it does not call etl_session.session_id()). -#}
{{ config(materialized='table', enabled=var('with_web_sessions', false)) }}
select session_id, page
from (values (1, 'home'), (2, 'cart'), (3, 'checkout'), (4, 'home'), (5, 'cart')) as visits (session_id, page)
