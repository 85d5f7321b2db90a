{{ config(enabled=var('hostile_text', '') != '', materialized='table') }}
select cast('{{ var("hostile_text") | replace("'", "''") }}' as integer) as n
