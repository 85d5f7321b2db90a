{% macro noop() %}{% do log('noop', info=true) %}{% endmacro %}
